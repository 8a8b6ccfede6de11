"""The event contract: every event Taskwire publishes, its CloudEvents envelope, and the WebSocket messages made of it.

Producers build events only with the constructors below and consumers read them only with the
readers below, so the shape of an event is written once. An event travels as a plain dict (the
CloudEvents 1.0 structured format, JSON on the wire and in the outbox); a reader turns one into a
frozen dataclass, or raises `MalformedEvent` when the dict is not what its type promises.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NotRequired, TypedDict

# Event types, which are also the routing keys on the exchange.
TASK_CREATED = "task.created"
TASK_UPDATED = "task.updated"
TASK_DELETED = "task.deleted"
NOTIFICATION_CREATED = "notification.created"
NOTIFICATION_UPDATED = "notification.updated"  # a notification changed (edits folded into it); same id
TOKEN_REVOKED = "auth.token_revoked"
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"

TASK_EVENT_TYPES = (TASK_CREATED, TASK_UPDATED, TASK_DELETED)
USER_EVENT_TYPES = (USER_CREATED, USER_UPDATED)
NOTIFICATION_EVENT_TYPES = (NOTIFICATION_CREATED, NOTIFICATION_UPDATED)
EVENT_TYPES = (*TASK_EVENT_TYPES, *NOTIFICATION_EVENT_TYPES, TOKEN_REVOKED, *USER_EVENT_TYPES)

# Who publishes what: each type has one producer, named in the envelope's `source`.
USERS_SOURCE = "/taskwire/users_svc"
TASKS_SOURCE = "/taskwire/tasks_svc"
NOTIFY_SOURCE = "/taskwire/notify_svc"

SPECVERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"
CONTENT_TYPE = "application/cloudevents+json"  # the AMQP content type of a structured-mode CloudEvent

# The WebSocket `action` of each task event type (what clients of the Django system parse).
TASK_ACTIONS = {TASK_CREATED: "task_created", TASK_UPDATED: "task_updated", TASK_DELETED: "task_deleted"}

Changes = dict[str, list[Any]]  # {field: [old, new]}


class Event(TypedDict):
    """A structured-mode CloudEvent as Taskwire writes it; `requestid` carries the gateway's X-Request-ID."""

    specversion: str
    id: str
    source: str
    type: str
    time: str
    datacontenttype: str
    data: dict[str, Any]
    requestid: NotRequired[str]


class MalformedEvent(ValueError):
    """A message that is not a Taskwire event, or whose data does not match its type."""


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def envelope(event_type: str, source: str, data: dict[str, Any], request_id: str | None = None,
             event_id: str | None = None, time: str | None = None) -> Event:
    """The CloudEvents envelope around `data`; only the constructors below call it."""
    event: Event = {
        "specversion": SPECVERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": time or utc_now_iso(),
        "datacontenttype": DATA_CONTENT_TYPE,
        "data": data,
    }
    if request_id:
        event["requestid"] = request_id
    return event


# -- constructors: the only way an event is made ----------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who made a task change."""

    id: int
    username: str


def task_created(task: dict[str, Any], actor: Actor, request_id: str | None = None,
                 source: str = TASKS_SOURCE) -> Event:
    """`task` is the task's JSON as the API answers it."""
    return envelope(TASK_CREATED, source, _task_data(task, actor), request_id)


def task_updated(task: dict[str, Any], changes: Changes, actor: Actor, request_id: str | None = None) -> Event:
    """`task` is the task after the change; `changes` names every changed field's old and new value."""
    return envelope(TASK_UPDATED, TASKS_SOURCE, {**_task_data(task, actor), "changes": changes}, request_id)


def task_deleted(task: dict[str, Any], actor: Actor, request_id: str | None = None) -> Event:
    """`task` is the task as it was before the delete."""
    return envelope(TASK_DELETED, TASKS_SOURCE, _task_data(task, actor), request_id)


def _task_data(task: dict[str, Any], actor: Actor) -> dict[str, Any]:
    return {"task": task, "actor_id": actor.id, "actor_username": actor.username}


def notification_created(notification: dict[str, Any], request_id: str | None = None) -> Event:
    """`notification` is the notification's JSON as the API answers it."""
    return envelope(NOTIFICATION_CREATED, NOTIFY_SOURCE, {"notification": notification}, request_id)


def notification_updated(notification: dict[str, Any], request_id: str | None = None) -> Event:
    """`notification` is the notification's JSON after the change, with the id it was created with."""
    return envelope(NOTIFICATION_UPDATED, NOTIFY_SOURCE, {"notification": notification}, request_id)


def token_revoked(user_id: int, *, jti: str | None = None, expires_at: float | None = None,
                  token_version: int | None = None, request_id: str | None = None) -> Event:
    """One token (`jti`, until `expires_at`) or every token of the user below `token_version`."""
    if (jti is None) == (token_version is None):
        raise ValueError("a revocation names either one token (jti) or a token version")
    data: dict[str, Any] = {"user_id": user_id}
    if jti is not None:
        data.update(jti=jti, expires_at=expires_at)
    else:
        data["token_version"] = token_version
    return envelope(TOKEN_REVOKED, USERS_SOURCE, data, request_id)


def user_created(user: dict[str, Any], version: int, actor_id: int | None, request_id: str | None = None) -> Event:
    return envelope(USER_CREATED, USERS_SOURCE, {"user": user, "version": version, "actor_id": actor_id},
                    request_id)


def user_updated(user: dict[str, Any], version: int, changes: Changes, actor_id: int | None,
                 request_id: str | None = None) -> Event:
    return envelope(USER_UPDATED, USERS_SOURCE,
                    {"user": user, "version": version, "changes": changes, "actor_id": actor_id}, request_id)


# -- readers: the only way an event is read ----------------------------------------------------------


def parse_event(body: bytes | str) -> Event:
    """An event from the wire, its envelope checked; raises MalformedEvent."""
    try:
        event = json.loads(body)
    except ValueError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    return checked_envelope(event)


def checked_envelope(event: object) -> Event:
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or \
            not isinstance(event.get("type"), str) or not isinstance(event.get("data"), dict):
        raise MalformedEvent("not a CloudEvent with id, type and data")
    return event  # type: ignore[return-value]  # checked above, as far as any reader relies on


@dataclass(frozen=True)
class TaskEvent:
    """A task change: the task after it (before it, for a delete), who made it, and what changed."""

    id: str
    type: str
    time: str
    task: dict[str, Any]
    actor_id: int | None
    actor_username: str
    changes: Changes
    request_id: str | None

    @property
    def task_id(self) -> int | None:
        return self.task.get("id")

    @property
    def assignee(self) -> int | None:
        return self.task.get("assigned_user")

    @property
    def previous_assignee(self) -> int | None:
        """Who the task was taken from, when the change reassigned it."""
        old_and_new = self.changes.get("assigned_user")
        return old_and_new[0] if old_and_new else None

    @property
    def concerns(self) -> frozenset[int]:
        """The users the change is about: the assignee after it, and the one before a reassignment."""
        return frozenset(user for user in (self.assignee, self.previous_assignee) if user is not None)


@dataclass(frozen=True)
class NotificationEvent:
    id: str
    time: str
    notification: dict[str, Any]
    request_id: str | None

    @property
    def user(self) -> int:
        return int(self.notification["user"])


@dataclass(frozen=True)
class Revocation:
    """One token (`jti`, dead until `expires_at`) or every token of a user below `token_version`."""

    user_id: int
    jti: str | None = None
    expires_at: float | None = None
    token_version: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Revocation:
        """From an event's data or an entry of users_svc's revocation snapshot (the same fields)."""
        try:
            jti = data.get("jti") or None
            version = data.get("token_version")
            return cls(user_id=int(data["user_id"]), jti=jti,
                       expires_at=float(data["expires_at"]) if jti else None,
                       token_version=int(version) if version is not None else None)
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedEvent(f"not a revocation: {error!r}") from None


@dataclass(frozen=True)
class UserEvent:
    """A user as other services' directories hold one, with the version the event reflects."""

    id: str
    type: str
    user_id: int
    username: str
    role: str
    is_active: bool
    version: int
    changes: Changes


def read_task_event(event: Event) -> TaskEvent:
    if event["type"] not in TASK_EVENT_TYPES:
        raise MalformedEvent(f"{event['type']} is not a task event")
    data = event["data"]
    task, changes = data.get("task"), data.get("changes") or {}
    if not isinstance(task, dict) or not isinstance(changes, dict):
        raise MalformedEvent(f"task event {event['id']} has no task")
    return TaskEvent(id=event["id"], type=event["type"], time=event.get("time", ""), task=task,
                     actor_id=data.get("actor_id"), actor_username=str(data.get("actor_username", "")),
                     changes=changes, request_id=event.get("requestid"))


def read_notification_event(event: Event) -> NotificationEvent:
    notification = event["data"].get("notification")
    if event["type"] not in NOTIFICATION_EVENT_TYPES or not isinstance(notification, dict) or \
            "user" not in notification:
        raise MalformedEvent(f"event {event['id']} is not a notification event")
    return NotificationEvent(id=event["id"], time=event.get("time", ""), notification=notification,
                             request_id=event.get("requestid"))


def read_revocation(event: Event) -> Revocation:
    if event["type"] != TOKEN_REVOKED:
        raise MalformedEvent(f"event {event['id']} is not an auth.token_revoked")
    return Revocation.from_mapping(event["data"])


def read_user_event(event: Event) -> UserEvent:
    if event["type"] not in USER_EVENT_TYPES:
        raise MalformedEvent(f"event {event['id']} is not a user event")
    data = event["data"]
    try:
        user = data["user"]
        return UserEvent(id=event["id"], type=event["type"], user_id=int(user["id"]), username=user["username"],
                         role=user["role"], is_active=bool(user["is_active"]), version=int(data["version"]),
                         changes=data.get("changes") or {})
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedEvent(f"user event {event['id']} lacks {error}") from None
