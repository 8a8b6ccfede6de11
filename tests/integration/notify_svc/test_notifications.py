"""notify_svc on a real PostgreSQL: task events become notifications once; users read only their own."""
import pytest
from sqlalchemy import text

from notify_svc.services import handle_task_events
from taskwire_common import contracts
from taskwire_common.db import db
from tests.integration.support import admit
from tests.support import bearer, make_token


@pytest.fixture
def task_change_events(tasks_client, people, task_events):
    """Real events, made by tasks_svc's own code: admin creates, changes, reassigns and deletes a task."""
    admin = bearer(people["root"])
    task = tasks_client.post("/api/tasks/", json={"title": "Fix login", "priority": "high",
                                                  "due_date": "2026-12-01", "assigned_user": 2}, headers=admin).json
    tasks_client.patch(f"/api/tasks/{task['id']}/", json={"status": "in_progress"}, headers=bearer(people["ann"]))
    tasks_client.patch(f"/api/tasks/{task['id']}/", json={"priority": "low"}, headers=admin)
    tasks_client.patch(f"/api/tasks/{task['id']}/", json={"assigned_user": 3}, headers=admin)
    tasks_client.delete(f"/api/tasks/{task['id']}/", headers=admin)
    return task_events()


def handle(notify_app, event):
    with notify_app.app_context():
        return handle_task_events([event])


def test_task_events_from_tasks_svc_become_the_expected_notifications(notify_db, task_change_events,
                                                                      stored_notifications):
    for event in task_change_events:
        handle(notify_db, event)
    assert stored_notifications() == [
        (2, "root assigned you 'Fix login' (high, due 2026-12-01)", "task.created"),
        (2, "root changed 'Fix login': priority high → low", "task.updated"),
        (3, "root assigned you 'Fix login' (low, due 2026-12-01)", "task.updated"),
        (2, "'Fix login' is no longer assigned to you (root reassigned it)", "task.updated"),
        (3, "root deleted 'Fix login'", "task.deleted"),
    ]


def test_an_event_handled_twice_makes_its_notifications_once(notify_db, task_change_events, stored_notifications):
    for event in task_change_events + task_change_events:
        handle(notify_db, event)
    assert len(stored_notifications()) == 5


def test_a_batch_with_repeats_inside_and_across_batches_makes_each_notification_once(
        notify_db, task_change_events, stored_notifications):
    with notify_db.app_context():
        handle_task_events(task_change_events[:3] + task_change_events[:3])
        handle_task_events(task_change_events)
    assert len(stored_notifications()) == 5


def test_each_notification_is_published_through_the_outbox(notify_db, task_change_events):
    handle(notify_db, task_change_events[0])
    with notify_db.app_context():
        [payload] = [row[0] for row in db.session.execute(text("SELECT payload FROM outbox_events"))]
    assert payload["type"] == "notification.created" and payload["source"] == "/taskwire/notify_svc"
    assert payload["source"] == contracts.NOTIFY_SOURCE
    event, cause = contracts.read_notification_event(payload), contracts.read_task_event(task_change_events[0])
    notification = event.notification
    assert notification["user"] == 2 and notification["is_read"] is False
    assert notification["task_id"] == cause.task_id
    assert notification["event_type"] == "task.created"
    assert event.request_id == cause.request_id and event.request_id


@pytest.fixture
def inbox(notify_db, task_change_events):
    """Notifications stored for users 2 (three) and 3 (two); a client and tokens to read them."""
    for event in task_change_events:
        handle(notify_db, event)
    admit(notify_db, (2, True), (3, True))
    return notify_db.test_client(), {2: bearer(make_token(2, "ann")), 3: bearer(make_token(3, "bob"))}


def test_a_user_lists_only_their_own_newest_first(inbox):
    client, tokens = inbox
    response = client.get("/api/notifications/", headers=tokens[3])
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "2"
    assert [n["message"] for n in response.json] == ["root deleted 'Fix login'",
                                                     "root assigned you 'Fix login' (low, due 2026-12-01)"]
    assert set(response.json[0]) == {"id", "user", "message", "is_read", "created_at", "task_id", "event_type",
                                     "kind", "count"}
    assert (response.json[0]["kind"], response.json[0]["count"]) == ("deleted", 1)


def test_read_state_filter_count_and_marking(inbox):
    client, tokens = inbox
    ann = tokens[2]
    first = client.get("/api/notifications/", headers=ann).json[0]
    assert client.get("/api/notifications/unread-count/", headers=ann).json == {"unread_count": 3}
    marked = client.patch(f"/api/notifications/{first['id']}/", json={"is_read": True}, headers=ann)
    assert marked.status_code == 200 and marked.json["is_read"] is True
    assert [n["id"] for n in client.get("/api/notifications/?is_read=true", headers=ann).json] == [first["id"]]
    assert len(client.get("/api/notifications/?is_read=false", headers=ann).json) == 2
    put = client.put(f"/api/notifications/{first['id']}/", json={"is_read": False}, headers=ann)
    assert put.json["is_read"] is False
    assert client.post("/api/notifications/mark-all-read/", headers=ann).json == {"marked_read": 3}
    assert client.get("/api/notifications/unread-count/", headers=ann).json == {"unread_count": 0}
    assert client.get("/api/notifications/unread-count/", headers=tokens[3]).json == {"unread_count": 2}


def test_another_users_notification_is_a_404_and_stays_unread(inbox):
    client, tokens = inbox
    bobs = client.get("/api/notifications/", headers=tokens[3]).json[0]
    for method in ("get", "put", "patch"):
        response = getattr(client, method)(f"/api/notifications/{bobs['id']}/", json={"is_read": True},
                                           headers=tokens[2])
        assert response.status_code == 404
    assert client.get(f"/api/notifications/{bobs['id']}/", headers=tokens[3]).json["is_read"] is False


def test_there_is_no_way_to_create_a_notification_over_http(inbox):
    client, tokens = inbox
    assert client.post("/api/notifications/", json={"user": 2, "message": "hi"}, headers=tokens[2]).status_code == 405
    assert client.get("/api/notifications/").status_code == 401


@pytest.mark.parametrize("method,path,body,field", [
    ("get", "/api/notifications/?is_read=perhaps", None, "is_read"),
    ("get", "/api/notifications/?page=0", None, "page"),
    ("put", "/api/notifications/1/", {}, "is_read"),
    ("put", "/api/notifications/1/", {"is_read": "yes please"}, "is_read"),
    ("patch", "/api/notifications/1/", {"message": "edited"}, "message"),
])
def test_bad_input_is_a_400_naming_the_field(inbox, method, path, body, field):
    client, tokens = inbox
    response = getattr(client, method)(path, json=body, headers=tokens[2])
    assert response.status_code == 400 and field in response.json["errors"]
