"""The event contract: every constructor's event reads back through its reader; anything else is MalformedEvent."""
import json

import pytest

from taskwire_common import contracts
from taskwire_common.contracts import Actor, MalformedEvent

TASK = {"id": 5, "title": "Fix login", "priority": "high", "status": "todo", "due_date": None, "assigned_user": 3}
USER = {"id": 2, "username": "ann", "role": "user", "is_active": True}
ROOT = Actor(1, "root")


def wire(event):
    """The event as a consumer receives it: JSON bytes off the broker."""
    return contracts.parse_event(json.dumps(event).encode())


def test_every_event_carries_the_cloudevents_envelope_and_its_producers_source():
    events = {
        contracts.TASK_CREATED: contracts.task_created(TASK, ROOT, "req-1"),
        contracts.TASK_UPDATED: contracts.task_updated(TASK, {"status": ["todo", "completed"]}, ROOT),
        contracts.TASK_DELETED: contracts.task_deleted(TASK, ROOT),
        contracts.NOTIFICATION_CREATED: contracts.notification_created({"id": 1, "user": 3}),
        contracts.NOTIFICATION_UPDATED: contracts.notification_updated({"id": 1, "user": 3, "count": 2}),
        contracts.TOKEN_REVOKED: contracts.token_revoked(2, token_version=4),
        contracts.USER_CREATED: contracts.user_created(USER, 1, None),
        contracts.USER_UPDATED: contracts.user_updated(USER, 2, {"role": ["admin", "user"]}, 1),
    }
    assert set(events) == set(contracts.EVENT_TYPES)
    sources = {"task": contracts.TASKS_SOURCE, "notification": contracts.NOTIFY_SOURCE,
               "auth": contracts.USERS_SOURCE, "user": contracts.USERS_SOURCE}
    for event_type, event in events.items():
        assert event["type"] == event_type and event["specversion"] == "1.0"
        assert event["datacontenttype"] == "application/json" and event["time"].endswith("Z")
        assert event["source"] == sources[event_type.split(".")[0]]
        assert wire(event) == event
    assert events[contracts.TASK_CREATED]["requestid"] == "req-1"
    assert "requestid" not in events[contracts.TASK_DELETED]
    assert len({event["id"] for event in events.values()}) == len(events)


@pytest.mark.parametrize("make, event_type, changes", [
    (lambda: contracts.task_created(TASK, ROOT, "req-1"), "task.created", {}),
    (lambda: contracts.task_updated({**TASK, "assigned_user": 4}, {"assigned_user": [3, 4]}, ROOT, "req-1"),
     "task.updated", {"assigned_user": [3, 4]}),
    (lambda: contracts.task_deleted(TASK, ROOT, "req-1"), "task.deleted", {}),
])
def test_task_events_read_back_as_made(make, event_type, changes):
    event = make()
    read = contracts.read_task_event(wire(event))
    assert (read.id, read.type, read.time, read.request_id) == (event["id"], event_type, event["time"], "req-1")
    assert read.task == event["data"]["task"] and read.task_id == 5
    assert (read.actor_id, read.actor_username, read.changes) == (1, "root", changes)


def test_a_reassignment_concerns_the_old_and_the_new_assignee():
    moved = contracts.read_task_event(contracts.task_updated({**TASK, "assigned_user": 4},
                                                             {"assigned_user": [3, 4]}, ROOT))
    dropped = contracts.read_task_event(contracts.task_updated({**TASK, "assigned_user": None},
                                                               {"assigned_user": [3, None]}, ROOT))
    assert (moved.assignee, moved.previous_assignee, moved.concerns) == (4, 3, frozenset({3, 4}))
    assert (dropped.assignee, dropped.previous_assignee, dropped.concerns) == (None, 3, frozenset({3}))


def test_a_notification_event_reads_back_as_made():
    notification = {"id": 1, "user": 3, "message": "hi", "is_read": False}
    event = contracts.notification_created(notification, "req-2")
    read = contracts.read_notification_event(wire(event))
    assert (read.id, read.time, read.notification, read.user, read.request_id) == (
        event["id"], event["time"], notification, 3, "req-2")


def test_a_revocation_names_one_token_or_a_token_version():
    one = contracts.read_revocation(wire(contracts.token_revoked(2, jti="abc", expires_at=1700000000.5)))
    every = contracts.read_revocation(wire(contracts.token_revoked(2, token_version=3)))
    assert one == contracts.Revocation(user_id=2, jti="abc", expires_at=1700000000.5)
    assert every == contracts.Revocation(user_id=2, token_version=3)
    with pytest.raises(ValueError):
        contracts.token_revoked(2)
    with pytest.raises(ValueError):
        contracts.token_revoked(2, jti="abc", expires_at=1.0, token_version=3)


def test_user_events_read_back_as_made():
    created = contracts.read_user_event(wire(contracts.user_created(USER, 1, None)))
    updated = contracts.read_user_event(wire(contracts.user_updated({**USER, "is_active": False}, 3,
                                                                    {"is_active": [True, False]}, 1)))
    assert (created.type, created.user_id, created.username, created.role, created.is_active, created.version,
            created.changes) == ("user.created", 2, "ann", "user", True, 1, {})
    assert (updated.type, updated.is_active, updated.version, updated.changes) == (
        "user.updated", False, 3, {"is_active": [True, False]})


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"text"', b'{"id": "x", "type": "task.created"}',
                                  b'{"id": 1, "type": "task.created", "data": {}}',
                                  b'{"id": "x", "type": "task.created", "data": []}'])
def test_what_is_not_a_cloudevent_is_malformed(body):
    with pytest.raises(MalformedEvent):
        contracts.parse_event(body)


def test_an_event_that_lacks_what_its_type_promises_is_malformed():
    task_event, user_event = contracts.task_created(TASK, ROOT), contracts.user_created(USER, 1, None)
    cases = [
        (contracts.read_task_event, {**task_event, "data": {"actor_id": 1}}),
        (contracts.read_task_event, {**task_event, "data": {"task": TASK, "changes": ["status"]}}),
        (contracts.read_task_event, user_event),
        (contracts.read_notification_event, {**task_event, "type": contracts.NOTIFICATION_CREATED}),
        (contracts.read_notification_event, contracts.notification_created({"id": 1})),
        (contracts.read_notification_event, task_event),
        (contracts.read_revocation, {**task_event, "type": contracts.TOKEN_REVOKED, "data": {"jti": "abc"}}),
        (contracts.read_revocation, {**task_event, "type": contracts.TOKEN_REVOKED,
                                     "data": {"user_id": 2, "jti": "abc"}}),
        (contracts.read_revocation, task_event),
        (contracts.read_user_event, {**user_event, "data": {"user": {"id": 2}, "version": 1}}),
        (contracts.read_user_event, {**user_event, "data": {"user": USER, "version": "one"}}),
        (contracts.read_user_event, task_event),
    ]
    for read, event in cases:
        with pytest.raises(MalformedEvent):
            read(contracts.checked_envelope(event))
