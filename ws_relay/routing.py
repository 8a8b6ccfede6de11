"""Who may see an event, and the message a client receives for it: pure functions."""
from __future__ import annotations

from dataclasses import dataclass

from taskwire_common.contracts import (
    NOTIFICATION_EVENT_TYPES,
    TASK_EVENT_TYPES,
    Event,
    NotificationEvent,
    TaskEvent,
    read_notification_event,
    read_task_event,
)
from taskwire_common.socket_messages import encode_message, notification_message, task_update_message

ShownEvent = TaskEvent | NotificationEvent


@dataclass(frozen=True)
class Audience:
    """The users an event is for; admins see every task event besides."""

    users: frozenset[int]
    all_admins: bool
    is_task_event: bool

    def includes(self, user_id: int, is_admin: bool, wants_task_events: bool) -> bool:
        if self.is_task_event and not wants_task_events:
            return False
        return user_id in self.users or (self.all_admins and is_admin)


def shown_event(event: Event) -> ShownEvent | None:
    """The event as clients are shown it; None for events no client is shown. Raises MalformedEvent."""
    if event["type"] in TASK_EVENT_TYPES:
        return read_task_event(event)
    if event["type"] in NOTIFICATION_EVENT_TYPES:
        return read_notification_event(event)
    return None


def audience_of(event: ShownEvent) -> Audience:
    if isinstance(event, TaskEvent):  # the user a task was taken from learns of it too
        return Audience(event.concerns, all_admins=True, is_task_event=True)
    return Audience(frozenset({event.user}), all_admins=False, is_task_event=False)


def client_message(event: ShownEvent, cursor: str) -> str:
    """The JSON text clients of the Django system already parse, plus event_id, occurred_at and cursor."""
    if isinstance(event, TaskEvent):
        return encode_message(task_update_message(event, cursor))
    return encode_message(notification_message(event, cursor))
