"""JSON Schemas of the event contract: the CloudEvents envelope and each event type's `data`.

Written once, beside the constructors and readers of taskwire_common/contracts.py, and read by the
AsyncAPI generator (broker/asyncapi.py) and by the tests that hold the constructors and the
running system to them. Schemas refer to each other as `#/components/schemas/<name>`, where the
AsyncAPI document puts them. They are strict (no property they do not name), so that a field added
to an event without being written here fails a test instead of going undescribed.
"""
from __future__ import annotations

from typing import Any

from .contracts import (
    DATA_CONTENT_TYPE,
    EVENT_TYPES,
    NOTIFICATION_CREATED,
    NOTIFICATION_EVENT_TYPES,
    NOTIFICATION_UPDATED,
    NOTIFY_SOURCE,
    SPECVERSION,
    TASK_CREATED,
    TASK_DELETED,
    TASK_EVENT_TYPES,
    TASK_UPDATED,
    TASKS_SOURCE,
    TOKEN_REVOKED,
    USER_CREATED,
    USER_UPDATED,
    USERS_SOURCE,
)

Schema = dict[str, Any]

# The values the services' models allow (tasks_svc.models, users_svc.models; a unit test keeps them equal).
PRIORITIES = ("low", "medium", "high")
STATUSES = ("todo", "in_progress", "completed")
ROLES = ("admin", "user")
TASK_WRITABLE = ("title", "description", "priority", "status", "due_date", "assigned_user")
# notify_svc.rules.KINDS and its reminders' event types (a unit test keeps them equal).
NOTIFICATION_KINDS = ("assigned", "updated", "unassigned", "deleted", "due_soon", "overdue")
REMINDER_EVENT_TYPES = ("reminder.due_soon", "reminder.overdue")

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def strict(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    """An object with exactly these properties, every one required unless `required` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required,
            "additionalProperties": False, **extra}


ID = {"type": "integer", "minimum": 1}
TIMESTAMP = {"type": "string", "format": "date-time"}
VERSION = {"type": "integer", "minimum": 1,
           "description": "1 when created, one more with every change; also the HTTP ETag"}


def changes(fields: tuple[str, ...] | None = None) -> Schema:
    """`{field: [old, new]}` for every field that changed."""
    schema: Schema = {"type": "object", "minProperties": 1,
                      "additionalProperties": {"type": "array", "minItems": 2, "maxItems": 2},
                      "description": "every changed field, as [old, new]"}
    if fields:
        schema["propertyNames"] = {"enum": list(fields)}
    return schema


# -- what the services' APIs answer, carried inside events ------------------------------------------

TASK: Schema = strict({
    "id": ID,
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string"},
    "priority": {"enum": list(PRIORITIES)},
    "status": {"enum": list(STATUSES)},
    "due_date": nullable({"type": "string", "format": "date"}),
    "assigned_user": nullable(ID),
    "created_by": ID,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "version": VERSION,
}, description="A task as the API answers it (tasks_svc TaskSchema)")

NOTIFICATION: Schema = strict({
    "id": ID,
    "user": {**ID, "description": "whose notification it is"},
    "message": {"type": "string"},
    "is_read": {"type": "boolean"},
    "created_at": TIMESTAMP,
    "task_id": nullable(ID),
    "event_type": {"enum": [*TASK_EVENT_TYPES, *REMINDER_EVENT_TYPES],
                   "description": "the task event it came from, or reminder.due_soon / reminder.overdue"},
    "kind": {"enum": list(NOTIFICATION_KINDS), "description": "what it tells, the unit of preferences"},
    "count": {"type": "integer", "minimum": 1, "description": "how many updates are folded into it"},
}, description="A notification as the API answers it (notify_svc NotificationSchema)")

USER: Schema = strict({
    "id": ID,
    "username": {"type": "string"},
    "email": {"type": "string"},
    "role": {"enum": list(ROLES)},
    "is_active": {"type": "boolean"},
    "is_staff": {"type": "boolean", "description": "true for an admin (the Django clients' flag)"},
    "is_superuser": {"type": "boolean"},
    "date_joined": TIMESTAMP,
    "last_login": nullable(TIMESTAMP),
    "version": VERSION,
}, description="A user as the API answers it (users_svc UserSchema); never the password hash")

# -- each event type's data ---------------------------------------------------------------------------

TASK_DATA = {"task": ref("Task"), "actor_id": {**ID, "description": "who made the change"},
             "actor_username": {"type": "string"}}

DATA: dict[str, Schema] = {
    TASK_CREATED: strict(TASK_DATA, description="The task as created (version 1)"),
    TASK_UPDATED: strict({**TASK_DATA, "changes": changes(TASK_WRITABLE)},
                         description="The task after the change, with its new version, and what changed"),
    TASK_DELETED: strict(TASK_DATA, description="The task as it was before the delete (its last version)"),
    NOTIFICATION_CREATED: strict({"notification": ref("Notification")}),
    NOTIFICATION_UPDATED: strict({"notification": ref("Notification")},
                                 description="The notification after the change, with the id it was created with"),
    TOKEN_REVOKED: {"oneOf": [
        strict({"user_id": ID, "jti": {"type": "string", "minLength": 1},
                "expires_at": {"type": "number", "description": "when the token expires, Unix seconds"}},
               description="One token is dead (a logout)"),
        strict({"user_id": ID, "token_version": {"type": "integer", "minimum": 1}},
               description="Every token of the user issued below token_version is dead "
                           "(deactivation, role or password change)"),
    ]},
    USER_CREATED: strict({"user": ref("User"), "version": VERSION,
                          "actor_id": {**nullable(ID), "description": "the admin; null for a sign-up or the CLI"}}),
    USER_UPDATED: strict({"user": ref("User"), "version": VERSION, "changes": changes(tuple(USER["properties"])),
                          "actor_id": {**nullable(ID), "description": "the admin; null for the CLI"}}),
}

SOURCES = {**{event_type: TASKS_SOURCE for event_type in TASK_EVENT_TYPES},
           **{event_type: NOTIFY_SOURCE for event_type in NOTIFICATION_EVENT_TYPES},
           TOKEN_REVOKED: USERS_SOURCE, USER_CREATED: USERS_SOURCE, USER_UPDATED: USERS_SOURCE}

SUMMARIES = {
    TASK_CREATED: "A task was created.",
    TASK_UPDATED: "A task changed (a reassignment names the old and the new assignee in changes.assigned_user).",
    TASK_DELETED: "A task was deleted.",
    NOTIFICATION_CREATED: "A user was notified of a task event or a due date.",
    NOTIFICATION_UPDATED: "A notification changed: another update folded into it (same id, count one more).",
    TOKEN_REVOKED: "One token, or every token of a user below a version, is revoked.",
    USER_CREATED: "A user was created (sign-up, admin or CLI).",
    USER_UPDATED: "A user changed (username, email, role, activity, ...).",
}


def schema_name(event_type: str) -> str:
    """`task.created` → `TaskCreatedData`, `auth.token_revoked` → `AuthTokenRevokedData`."""
    words = event_type.replace(".", "_").split("_")
    return "".join(word.capitalize() for word in words) + "Data"


def envelope_schema(event_type: str) -> Schema:
    """The CloudEvents 1.0 structured-mode envelope of one event type, as `contracts.envelope` writes it."""
    return strict({
        "specversion": {"const": SPECVERSION},
        "id": {"type": "string", "pattern": UUID_PATTERN, "description": "a UUID; consumers deduplicate on it"},
        "source": {"const": SOURCES[event_type], "description": "the producer"},
        "type": {"const": event_type, "description": "the event type, also the routing key"},
        "time": {**TIMESTAMP, "description": "when the event was made, in UTC"},
        "datacontenttype": {"const": DATA_CONTENT_TYPE},
        "data": ref(schema_name(event_type)),
        "requestid": {"type": "string", "description": "the X-Request-ID of the request that caused it"},
    }, required=["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
        description=f"A CloudEvents 1.0 event of type {event_type} (structured mode)")


def component_schemas() -> dict[str, Schema]:
    """Every named schema, for the AsyncAPI document's components.schemas."""
    return {"Task": TASK, "Notification": NOTIFICATION, "User": USER,
            **{schema_name(event_type): DATA[event_type] for event_type in EVENT_TYPES}}
