"""Every committed task change writes exactly one event, in the same transaction, with the right body."""
from datetime import datetime, timezone

import pytest

from tasks_svc import services
from taskwire_common import contracts
from taskwire_common.contracts import Actor, read_task_event
from tests.support import bearer

ENVELOPE = {"specversion", "id", "source", "type", "time", "datacontenttype", "data", "requestid"}


@pytest.fixture
def admin(people):
    return bearer(people["root"])


def post(client, headers, **body):
    response = client.post("/api/tasks/", json={"title": "Fix login", **body}, headers=headers)
    assert response.status_code == 201
    return response.json


def test_create_writes_one_task_created_event(tasks_client, admin, task_events):
    task = post(tasks_client, {**admin, "X-Request-ID": "req-create-1"}, assigned_user=2, priority="high")
    [event] = task_events()
    assert set(event) == ENVELOPE
    assert (event["type"], event["source"], event["specversion"]) == ("task.created", "/taskwire/tasks_svc", "1.0")
    assert (event["type"], event["source"]) == (contracts.TASK_CREATED, contracts.TASKS_SOURCE)
    assert read_task_event(event).request_id == "req-create-1"
    assert event["data"] == contracts.task_created(task, Actor(1, "root"))["data"]


@pytest.mark.parametrize("microsecond", [120000, 0, 123456])
def test_a_created_task_reads_the_same_in_its_answer_its_event_and_a_later_get(
        tasks_client, admin, task_events, monkeypatch, microsecond):
    """Times whose digits end in zeros too: PostgreSQL's JSON writes .12 where Python writes .120000."""
    moment = datetime(2026, 11, 26, 20, 44, 36, microsecond, tzinfo=timezone.utc)
    monkeypatch.setattr(services, "datetime", type("Clock", (), {"now": staticmethod(lambda tz: moment)}))
    task = post(tasks_client, admin, assigned_user=2, due_date="2026-12-01")
    [event] = task_events()
    assert task["created_at"] == task["updated_at"] == moment.isoformat()
    assert read_task_event(event).task == task == tasks_client.get(f"/api/tasks/{task['id']}/", headers=admin).json


def test_update_carries_the_changes_old_and_new(tasks_client, admin, task_events):
    task = post(tasks_client, admin, assigned_user=2)
    response = tasks_client.patch(f"/api/tasks/{task['id']}/", headers=admin,
                                  json={"assigned_user": 3, "priority": "low", "due_date": "2026-12-24"})
    events = [read_task_event(event) for event in task_events()]
    assert [e.type for e in events] == ["task.created", "task.updated"]
    update = events[1]
    assert update.changes == {"assigned_user": [2, 3], "priority": ["medium", "low"],
                              "due_date": [None, "2026-12-24"]}
    assert update.task == response.json and update.actor_username == "root"


def test_a_change_that_changes_nothing_writes_no_event(tasks_client, admin, task_events):
    task = post(tasks_client, admin, priority="high")
    response = tasks_client.patch(f"/api/tasks/{task['id']}/", json={"priority": "high"}, headers=admin)
    assert response.status_code == 200 and response.json["updated_at"] == task["updated_at"]
    assert [read_task_event(e).type for e in task_events()] == ["task.created"]


def test_put_writes_one_update_event(tasks_client, admin, task_events):
    task = post(tasks_client, admin, description="old")
    tasks_client.put(f"/api/tasks/{task['id']}/", json={"title": "Fix login"}, headers=admin)
    events = [read_task_event(event) for event in task_events()]
    assert [e.type for e in events] == ["task.created", "task.updated"]
    assert events[1].changes == {"description": ["old", ""]}


def test_delete_carries_the_task_as_it_was(tasks_client, people, task_events):
    ann = bearer(people["ann"])
    task = post(tasks_client, ann, description="bye")
    tasks_client.delete(f"/api/tasks/{task['id']}/", headers=ann)
    event = task_events()[-1]
    assert read_task_event(event).type == "task.deleted"
    assert event["data"] == contracts.task_deleted(task, Actor(2, "ann"))["data"]


def test_refused_changes_write_no_event(tasks_client, people, admin, task_events):
    task = post(tasks_client, admin, assigned_user=2)
    ann = bearer(people["ann"])
    tasks_client.patch(f"/api/tasks/{task['id']}/", json={"assigned_user": 3}, headers=ann)
    tasks_client.patch(f"/api/tasks/{task['id']}/", json={"priority": "urgent"}, headers=admin)
    tasks_client.post("/api/tasks/", json={"title": "x", "assigned_user": 4}, headers=admin)
    assert [read_task_event(e).type for e in task_events()] == ["task.created"]


def test_every_event_id_is_unique(tasks_client, admin, task_events):
    for number in range(5):
        task = post(tasks_client, admin, title=f"t{number}")
        tasks_client.patch(f"/api/tasks/{task['id']}/", json={"status": "completed"}, headers=admin)
    ids = [read_task_event(e).id for e in task_events()]
    assert len(ids) == 10 and len(set(ids)) == 10
