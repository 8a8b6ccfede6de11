"""The WebSocket messages: what the relay sends a client, for an event or about the feed itself.

The shapes clients of the Django system parse (`task_update`, `notification`), plus `event_id`,
`occurred_at` and `cursor`; and the feed's own messages (`hello`, `resync_required`, `cursor`).
Built only here; the events they come from are read with taskwire_common/contracts.py.
"""
from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from .contracts import TASK_ACTIONS, NotificationEvent, TaskEvent

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
