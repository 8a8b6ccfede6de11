"""Preferences on a real PostgreSQL: every kind on by default, a PUT sets only what it names, a muted kind is silent."""
import pytest

from tests.integration.notify_svc.conftest import task_event
from tests.integration.support import admit
from tests.support import bearer, make_token

URL = "/api/notifications/preferences/"
ALL_ON = {"assigned": True, "updated": True, "unassigned": True, "deleted": True, "due_soon": True, "overdue": True}


@pytest.fixture
def client(notify_db):
    admit(notify_db, (2, True), (3, True))
    return notify_db.test_client()


ANN, BOB = bearer(make_token(2, "ann")), bearer(make_token(3, "bob"))


def test_a_user_without_preferences_gets_every_kind_on(client):
    response = client.get(URL, headers=ANN)
    assert response.status_code == 200 and response.json == ALL_ON


def test_a_put_sets_the_kinds_it_names_and_keeps_the_others(client):
    first = client.put(URL, json={"updated": False, "overdue": False}, headers=ANN)
    assert first.status_code == 200 and first.json == {**ALL_ON, "updated": False, "overdue": False}
    second = client.put(URL, json={"overdue": True}, headers=ANN)
    assert second.json == {**ALL_ON, "updated": False}
    assert client.get(URL, headers=ANN).json == {**ALL_ON, "updated": False}
    assert client.get(URL, headers=BOB).json == ALL_ON


def test_an_unknown_kind_is_a_400_naming_it(client):
    response = client.put(URL, json={"updated": False, "weekly_digest": False}, headers=ANN)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == ["weekly_digest"] and "weekly_digest" in response.json["detail"]
    assert client.get(URL, headers=ANN).json == ALL_ON  # nothing of it applied


@pytest.mark.parametrize("value", ["false", 0, None, [], {"on": False}])
def test_a_value_that_is_not_a_boolean_is_a_400_naming_the_kind(client, value):
    response = client.put(URL, json={"due_soon": value}, headers=ANN)
    assert response.status_code == 400 and list(response.json["errors"]) == ["due_soon"]


@pytest.mark.parametrize("body", ["[]", "true", '"updated"', "", "{"])
def test_a_body_that_is_not_an_object_is_a_400(client, body):
    response = client.put(URL, data=body, content_type="application/json", headers=ANN)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_preferences_need_a_token(client):
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={"updated": False}).status_code == 401


def test_a_muted_kind_makes_no_notification_and_no_event(client, handle, stored_notifications, outbox):
    client.put(URL, json={"updated": False}, headers=ANN)
    handle(task_event(), task_event("updated", version=2))
    assert [row[2] for row in stored_notifications()] == ["task.created"]
    assert [n["kind"] for _, n in outbox()] == ["assigned"]
    client.put(URL, json={"updated": True}, headers=ANN)
    handle(task_event("updated", version=3, changes={"status": ["todo", "in_progress"]}))
    assert [row[2] for row in stored_notifications()] == ["task.created", "task.updated"]
