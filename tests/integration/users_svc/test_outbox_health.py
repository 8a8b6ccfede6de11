"""/healthz says 503 once an outbox event has waited longer than OUTBOX_LAG_LIMIT_SECONDS, and why."""
import json

from sqlalchemy import text

from taskwire_common import contracts
from taskwire_common.db import db


def add_pending_event(users_app, age_seconds: int) -> None:
    event = contracts.user_created({"id": 2, "username": "u", "role": "user", "is_active": True}, 1, None)
    with users_app.app_context():
        db.session.execute(text(
            "INSERT INTO outbox_events (event_id, routing_key, payload, created_at) "
            "VALUES (:id, :key, CAST(:payload AS jsonb), now() - make_interval(secs => :age))"),
            {"id": event["id"], "key": event["type"], "payload": json.dumps(event), "age": age_seconds})
        db.session.commit()


def test_a_fresh_pending_event_is_healthy_an_old_one_is_not(users_app, client):
    limit = users_app.config["TASKWIRE_SETTINGS"].outbox_lag_limit_seconds
    add_pending_event(users_app, age_seconds=1)
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json["checks"]["outbox"]["detail"]["pending"] == 1
    add_pending_event(users_app, age_seconds=limit + 5)
    answer = client.get("/healthz")
    assert answer.status_code == 503
    outbox = answer.json["checks"]["outbox"]
    assert not outbox["ok"] and outbox["detail"]["pending"] == 2 and "outbox publisher" in outbox["detail"]["problem"]
