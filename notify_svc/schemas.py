"""notify_svc request and response schemas."""
from __future__ import annotations

import marshmallow as ma

from taskwire_common.pagination import PageArgsSchema


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    user = ma.fields.Integer()
    message = ma.fields.String()
    is_read = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    task_id = ma.fields.Integer(allow_none=True, metadata={"description": "the task the event was about"})
    event_type = ma.fields.String(metadata={"description": "the task event it came from, e.g. task.updated"})


class NotificationListArgsSchema(PageArgsSchema):
    is_read = ma.fields.Boolean()


class ReadStateSchema(ma.Schema):
    """PUT: the read state is required."""

    is_read = ma.fields.Boolean(required=True)


class ReadStatePatchSchema(ma.Schema):
    """PATCH: the read state may be left out (nothing changes)."""

    is_read = ma.fields.Boolean()


class UnreadCountSchema(ma.Schema):
    unread_count = ma.fields.Integer()


class MarkedSchema(ma.Schema):
    marked_read = ma.fields.Integer(metadata={"description": "how many notifications were unread"})
