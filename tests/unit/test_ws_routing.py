"""The relay's fan-out: who receives which event, in which shape, and when a socket is closed."""
import json
import time

from wsproto.frame_protocol import FrameProtocol, Opcode

from taskwire_common.auth import Principal
from taskwire_common.contracts import (
    Actor,
    notification_created,
    read_revocation,
    task_created,
    task_deleted,
    task_updated,
    token_revoked,
    user_created,
)
from taskwire_common.messaging import MARK_TYPE
from ws_relay.history import Cursor
from ws_relay.hub import TRY_AGAIN_LATER, UNAUTHORIZED, Connection, Hub
from ws_relay.routing import client_message, shown_event
from ws_relay.stream import entry_of


def principal(user_id, role="user", jti=None, token_version=0):
    now = int(time.time())
    return Principal(user_id=user_id, username=f"u{user_id}", role=role, jti=jti or f"t{user_id}",
                     issued_at=now, expires_at=now + 600, token_version=token_version)


TASK = {"id": 5, "title": "x", "assigned_user": 2}
TASK_EVENT = task_updated(TASK, {}, Actor(1, "admin"))


def task_event(kind="updated", assignee=2, changes=None):
    task, admin = {**TASK, "assigned_user": assignee}, Actor(1, "admin")
    if kind == "created":
        return task_created(task, admin)
    if kind == "deleted":
        return task_deleted(task, admin)
    return task_updated(task, changes or {}, admin)


def notification_event(user):
    return notification_created({"id": 3, "user": user, "message": "hi"})


def read_frame(frame):
    """The message in one whole text frame, read as a client reads it (wsproto's client side)."""
    protocol = FrameProtocol(client=True, extensions=[])
    protocol.receive_bytes(frame)
    [read] = protocol.received_frames()
    assert read.opcode is Opcode.TEXT and read.message_finished
    return json.loads(read.payload)


def received(connection):
    return [read_frame(frame) for frame in connection.take_pending(len(connection.pending))]


class Properties:
    """The two properties of a stream delivery the relay reads."""

    def __init__(self, message_id, type=None):
        self.message_id, self.type = message_id, type


def ready_hub(size=100):
    """A hub whose history holds one mark, ready for sockets."""
    hub = Hub(size)
    hub.publish(entry_of(0, Properties("mark-0", MARK_TYPE), b""))
    hub.mark_ready()
    return hub


def dispatch(hub, event):
    """Append the event to the hub's history as the stream reader does; returns how many sockets were offered it."""
    return hub.publish(entry_of(hub.tail.offset + 1, Properties(event["id"]), json.dumps(event).encode()))


def connect(hub, user_id, role="user", tasks=True, size=10, **kwargs):
    connection = Connection(principal(user_id, role, **kwargs), tasks, size)
    hub.add(connection)
    assert hub.join_at_tail(connection, lambda tail: [])
    return connection


def test_task_events_reach_admins_and_the_assignee_only():
    hub = ready_hub()
    admin, ann, bob = connect(hub, 1, "admin"), connect(hub, 2), connect(hub, 3)
    assert dispatch(hub, TASK_EVENT) == 2
    [message] = received(admin)
    assert message == {"type": "task_update", "action": "task_updated", "task": TASK_EVENT["data"]["task"],
                       "event_id": TASK_EVENT["id"], "occurred_at": TASK_EVENT["time"],
                       "cursor": str(Cursor.of(1, TASK_EVENT["id"]))}
    assert received(ann) == [message] and received(bob) == []


def test_the_frames_clients_parse_are_compact_json_in_the_django_systems_key_order():
    task = task_created({"id": 5, "title": "é", "assigned_user": None}, Actor(1, "admin"))
    note = notification_created({"id": 3, "user": 2, "message": "hi"})
    assert client_message(shown_event(task), "7.0a1b2c3d") == (
        '{"type":"task_update","action":"task_created","task":{"id":5,"title":"\\u00e9","assigned_user":null},'
        f'"event_id":"{task["id"]}","occurred_at":"{task["time"]}","cursor":"7.0a1b2c3d"}}')
    assert client_message(shown_event(note), "8.0a1b2c3d") == (
        '{"type":"notification","notification":{"id":3,"user":2,"message":"hi"},'
        f'"event_id":"{note["id"]}","occurred_at":"{note["time"]}","cursor":"8.0a1b2c3d"}}')


def test_a_reassignment_reaches_both_the_old_and_the_new_assignee():
    hub = ready_hub()
    ann, bob = connect(hub, 2), connect(hub, 3)
    dispatch(hub, task_event(assignee=3, changes={"assigned_user": [2, 3]}))
    assert len(received(ann)) == len(received(bob)) == 1


def test_notifications_reach_their_user_on_both_paths_and_nobody_else():
    hub = ready_hub()
    admin, ann_tasks, ann_notes, bob = connect(hub, 1, "admin"), connect(hub, 2), connect(hub, 2, tasks=False), \
        connect(hub, 3)
    dispatch(hub, notification_event(2))
    assert [m["type"] for m in received(ann_tasks)] == ["notification"]
    assert [m["notification"]["user"] for m in received(ann_notes)] == [2]
    assert received(admin) == [] and received(bob) == []


def test_the_notifications_path_gets_no_task_events():
    hub = ready_hub()
    ann_notes, admin_notes = connect(hub, 2, tasks=False), connect(hub, 1, "admin", tasks=False)
    dispatch(hub, task_event())
    assert received(ann_notes) == [] and received(admin_notes) == []


def test_a_socket_that_stops_reading_is_closed_not_grown():
    hub = ready_hub()
    slow, other = connect(hub, 1, "admin", size=3), connect(hub, 1, "admin", size=100)
    for _ in range(10):
        dispatch(hub, task_event())
    assert slow.close_code == TRY_AGAIN_LATER and len(slow.pending) == 3
    assert other.close_code is None and len(other.pending) == 10


def test_a_revoked_token_closes_its_sockets_at_once():
    hub = ready_hub()
    old = connect(hub, 2, jti="old", token_version=0)
    current = connect(hub, 2, jti="current", token_version=1)
    hub.revoke(read_revocation(token_revoked(2, jti="current", expires_at=time.time() + 600)))
    assert (old.close_code, current.close_code) == (None, UNAUTHORIZED)
    hub.revoke(read_revocation(token_revoked(2, token_version=1)))
    assert old.close_code == UNAUTHORIZED


def test_events_no_client_sees_are_ignored_and_removed_sockets_get_nothing():
    hub = ready_hub()
    ann = connect(hub, 2)
    user = {"id": 2, "username": "u2", "role": "user", "is_active": True}
    assert dispatch(hub, user_created(user, 1, None)) == 0
    assert dispatch(hub, {"id": "x", "type": "task.updated", "data": "not a task event"}) == 0
    hub.remove(ann)
    assert dispatch(hub, task_event()) == 0 and len(hub) == 0


def test_a_socket_not_yet_live_is_offered_nothing_but_is_closed_by_a_revocation():
    hub = ready_hub()
    resuming = Connection(principal(2), True, 10)
    hub.add(resuming)
    assert dispatch(hub, task_event()) == 0 and received(resuming) == []
    hub.revoke(read_revocation(token_revoked(2, token_version=1)))
    assert resuming.close_code == UNAUTHORIZED


def test_a_user_holds_at_most_the_limit_of_sockets_in_a_process_and_a_closed_one_frees_its_place():
    hub = Hub(100, max_sockets_per_user=2)
    first, second = (Connection(principal(2), True, 10) for _ in range(2))
    assert hub.add(first) and hub.add(second)
    assert not hub.add(Connection(principal(2), True, 10)), "a third socket of the same user"
    assert hub.add(Connection(principal(3), True, 10)), "another user's sockets count apart"
    assert len(hub) == 3
    hub.remove(first)
    assert hub.add(Connection(principal(2), True, 10))
