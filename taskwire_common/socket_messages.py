"""The WebSocket messages: what the relay sends a client, for an event or about the feed itself.

The shapes clients of the Django system parse (`task_update`, `notification`), plus `event_id`,
`occurred_at` and `cursor`; and the feed's own messages (`hello`, `resync_required`, `cursor`).
Built only here; the events they come from are read with taskwire_common/contracts.py.
"""
from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from .contracts import TASK_ACTIONS, NotificationEvent, TaskEvent
from .event_schemas import UUID_PATTERN, Schema, ref, strict

# Every message from an event carries `cursor`: where it stands in the feed, which a client sends
# back (`?since=`) to resume after it. Clients treat a cursor as opaque text.


class TaskUpdateMessage(TypedDict):
    type: Literal["task_update"]
    action: str
    task: dict[str, Any]
    event_id: str
    occurred_at: str
    cursor: str


class NotificationMessage(TypedDict):
    type: Literal["notification"]
    notification: dict[str, Any]
    event_id: str
    occurred_at: str
    cursor: str


class HelloMessage(TypedDict):
    """The first message on every socket: the cursor this socket's messages follow, and whom it serves."""

    type: Literal["hello"]
    cursor: str
    user: int


class ResyncMessage(TypedDict):
    """The cursor sent back cannot be served (past retention, malformed, foreign): re-fetch, then follow `cursor`."""

    type: Literal["resync_required"]
    cursor: str


class CursorMessage(TypedDict):
    """Sent to a socket that has been quiet while the feed moved on: the cursor to resume from is now `cursor`."""

    type: Literal["cursor"]
    cursor: str


ClientMessage = TaskUpdateMessage | NotificationMessage | HelloMessage | ResyncMessage | CursorMessage


def task_update_message(event: TaskEvent, cursor: str) -> TaskUpdateMessage:
    return {"type": "task_update", "action": TASK_ACTIONS[event.type], "task": event.task,
            "event_id": event.id, "occurred_at": event.time, "cursor": cursor}


def notification_message(event: NotificationEvent, cursor: str) -> NotificationMessage:
    return {"type": "notification", "notification": event.notification, "event_id": event.id,
            "occurred_at": event.time, "cursor": cursor}


def hello_message(cursor: str, user_id: int) -> HelloMessage:
    return {"type": "hello", "cursor": cursor, "user": user_id}


def resync_message(cursor: str) -> ResyncMessage:
    return {"type": "resync_required", "cursor": cursor}


def cursor_message(cursor: str) -> CursorMessage:
    return {"type": "cursor", "cursor": cursor}


def encode_message(message: ClientMessage) -> str:
    """The compact JSON text frame a client receives."""
    return json.dumps(message, separators=(",", ":"))


# -- the same messages as JSON Schemas, for the AsyncAPI document (broker/asyncapi.py) --------

CURSOR: Schema = {"type": "string", "minLength": 1, "maxLength": 64,
                  "description": "opaque: where this message stands in the feed; send the last one back as ?since="}
FROM_EVENT: dict[str, Schema] = {
    "event_id": {"type": "string", "pattern": UUID_PATTERN, "description": "the event's CloudEvents id"},
    "occurred_at": {"type": "string", "format": "date-time", "description": "the event's time"},
    "cursor": CURSOR}

MESSAGE_SCHEMAS: dict[str, Schema] = {
    "hello": strict({"type": {"const": "hello"}, "cursor": CURSOR,
                     "user": {"type": "integer", "minimum": 1, "description": "whom the socket serves"}},
                    description="The first message on every socket: the cursor this socket's messages follow"),
    "task_update": strict({"type": {"const": "task_update"}, "action": {"enum": sorted(TASK_ACTIONS.values())},
                           "task": ref("Task"), **FROM_EVENT},
                          description="A task event: the task after the change (before it, for a delete)"),
    "notification": strict({"type": {"const": "notification"}, "notification": ref("Notification"), **FROM_EVENT},
                           description="A notification of the socket's user"),
    "resync_required": strict({"type": {"const": "resync_required"}, "cursor": CURSOR},
                              description="The ?since= cursor cannot be served: "
                                          "re-fetch over HTTP, then follow cursor"),
    "cursor": strict({"type": {"const": "cursor"}, "cursor": CURSOR},
                     description="A quiet socket's cursor moves on to the feed's tail"),
}
# Which messages each path sends: /ws/notifications/ carries no task events.
PATH_MESSAGES = {"/ws/tasks/": tuple(MESSAGE_SCHEMAS),
                 "/ws/notifications/": ("hello", "notification", "resync_required", "cursor")}
# What a client sends is read and dropped, up to this size; a larger message closes the socket (1009).
MAX_CLIENT_MESSAGE_BYTES = 64 * 1024

# The close codes a client may see (named for the relay in ws_relay/hub.py; a unit test keeps them equal).
CLOSE_CODES = {
    4401: "no, bad, expired or revoked credential: at the handshake, when the token expires, or at once "
          "when it is revoked; get a new token before reconnecting",
    4403: "a browser Origin not in WS_ALLOWED_ORIGINS",
    4429: "the user holds WS_MAX_SOCKETS_PER_USER sockets in that relay process already: close one, or "
          "reconnect later",
    1008: "no answer (pong) to the previous ping",
    1009: "the client sent a message larger than 64 KiB",
    1012: "the relay's history was reset (the feed stream was made again): resume, and expect resync_required",
    1013: "try again later: the client stopped reading (its queue filled or a write timed out), the relay "
          "has not finished reading the feed's history, or the feed could not be read while resuming",
}
