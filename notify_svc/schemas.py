"""notify_svc request and response schemas, each field with an OpenAPI example."""
from __future__ import annotations

import marshmallow as ma

from taskwire_common.pagination import PageArgsSchema

from .rules import KINDS


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"example": 31})
    user = ma.fields.Integer(metadata={"description": "whose notification it is", "example": 2})
    message = ma.fields.String(metadata={"example": "admin changed 'Fix login': status todo → in progress"})
    is_read = ma.fields.Boolean(metadata={"example": False})
    created_at = ma.fields.DateTime(metadata={"example": "2026-12-01T09:30:00.120000+00:00"})
    task_id = ma.fields.Integer(allow_none=True, metadata={"description": "the task the event was about",
                                                           "example": 7})
    event_type = ma.fields.String(metadata={
        "description": "the task event it came from (e.g. task.updated), or reminder.due_soon / reminder.overdue",
        "example": "task.updated"})
    kind = ma.fields.String(metadata={"description": "what it tells; the unit of preferences",
                                      "enum": list(KINDS), "example": "updated"})
    count = ma.fields.Integer(metadata={
        "description": "how many updates of the task by one person are folded into it (1 unless folded)",
        "example": 1})


class NotificationListArgsSchema(PageArgsSchema):
    is_read = ma.fields.Boolean(metadata={"example": False})


class ReadStateSchema(ma.Schema):
    """PUT: the read state is required."""

    is_read = ma.fields.Boolean(required=True, metadata={"example": True})


class ReadStatePatchSchema(ma.Schema):
    """PATCH: the read state may be left out (nothing changes)."""

    is_read = ma.fields.Boolean(metadata={"example": True})


class UnreadCountSchema(ma.Schema):
    unread_count = ma.fields.Integer(metadata={"example": 3})


class MarkedSchema(ma.Schema):
    marked_read = ma.fields.Integer(metadata={"description": "how many notifications were unread", "example": 3})


class StrictBoolean(ma.fields.Boolean):
    """true or false in JSON; not "yes", 1 or "true", which marshmallow's Boolean would take."""

    default_error_messages = {"invalid": "Not a boolean: give true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def kind_field(description: str) -> StrictBoolean:
    return StrictBoolean(metadata={"description": description, "example": True})


class PreferencesSchema(ma.Schema):
    """Which kinds notify. In a PUT every kind is optional: a kind left out keeps its value; an unknown one is a 400."""

    error_messages = {"unknown": f"Unknown kind of notification; the kinds are {', '.join(KINDS)}."}

    assigned = kind_field("a task is assigned to you")
    updated = kind_field("someone else changes a task of yours")
    unassigned = kind_field("a task is taken from you")
    deleted = kind_field("a task of yours is deleted")
    due_soon = kind_field("a task of yours is due within REMINDER_LEAD_HOURS")
    overdue = kind_field("a task of yours is past due and not completed")
