"""tasks_svc request and response schemas; unknown fields and parameters are refused (400)."""
from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import validate
from webargs.fields import DelimitedList

from taskwire_common.errors import STORABLE_TEXT
from taskwire_common.pagination import PageArgsSchema

from .models import PRIORITIES, STATUSES

MAX_ID = 2**31 - 1
ORDERING_FIELDS = ("id", "title", "priority", "status", "due_date", "created_at", "updated_at")
ORDERINGS = ORDERING_FIELDS + tuple("-" + name for name in ORDERING_FIELDS)


class IsoDate(ma.fields.Date):
    """A calendar date written exactly as YYYY-MM-DD."""

    PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self.PATTERN.match(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


def user_id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


# One pattern, so that the OpenAPI document says what is refused: blank (only whitespace) and NUL.
TITLE = [validate.Length(min=1, max=200),
         validate.Regexp(r"^[^\x00]*[^\s\x00][^\x00]*$", error="Must not be blank.")]
DESCRIPTION = [validate.Length(max=10_000), STORABLE_TEXT]


class TaskSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"example": 42})
    title = ma.fields.String(metadata={"example": "Fix login"})
    description = ma.fields.String(metadata={"example": "The login form refuses passwords with spaces."})
    priority = ma.fields.String(metadata={"example": "high"})
    status = ma.fields.String(metadata={"example": "in_progress"})
    due_date = ma.fields.Date(allow_none=True, metadata={"example": "2026-12-10"})
    assigned_user = ma.fields.Integer(allow_none=True, metadata={"example": 7})
    created_by = ma.fields.Integer(metadata={"example": 1})
    created_at = ma.fields.DateTime(metadata={"example": "2026-12-01T10:00:00.000000+00:00"})
    updated_at = ma.fields.DateTime(metadata={"example": "2026-12-03T15:30:12.250000+00:00"})
    version = ma.fields.Integer(metadata={"description": "1 when created, one more with every change; the ETag",
                                          "example": 4})


class TaskWriteSchema(ma.Schema):
    """POST and PUT: every writable field; what is left out takes its default."""

    title = ma.fields.String(required=True, validate=TITLE, metadata={"example": "Fix login"})
    description = ma.fields.String(load_default="", validate=DESCRIPTION,
                                   metadata={"example": "The login form refuses passwords with spaces."})
    priority = ma.fields.String(load_default="medium", validate=validate.OneOf(PRIORITIES),
                                metadata={"example": "high"})
    status = ma.fields.String(load_default="todo", validate=validate.OneOf(STATUSES), metadata={"example": "todo"})
    due_date = IsoDate(load_default=None, allow_none=True, metadata={"example": "2026-12-10"})
    assigned_user = user_id(allow_none=True, metadata={
        "description": "defaults to the caller for a user, to nobody for an admin", "example": 7})


class TaskPatchSchema(ma.Schema):
    """PATCH: only the fields given change."""

    title = ma.fields.String(validate=TITLE, metadata={"example": "Fix login on Safari"})
    description = ma.fields.String(validate=DESCRIPTION, metadata={"example": "Only Safari is affected."})
    priority = ma.fields.String(validate=validate.OneOf(PRIORITIES), metadata={"example": "medium"})
    status = ma.fields.String(validate=validate.OneOf(STATUSES), metadata={"example": "completed"})
    due_date = IsoDate(allow_none=True, metadata={"example": "2026-12-12"})
    assigned_user = user_id(allow_none=True, metadata={"example": 8})


def any_of(field: ma.fields.Field, **kwargs) -> DelimitedList:
    """A comma list of one to 100 values; an empty one is an error, never an ignored filter."""
    return DelimitedList(field, validate=validate.Length(min=1, max=100), **kwargs)


class TaskListArgsSchema(PageArgsSchema):
    """Filters combine with AND; a comma list means any of its values."""

    due_date = any_of(IsoDate())
    priority = any_of(ma.fields.String(validate=validate.OneOf(PRIORITIES)))
    status = any_of(ma.fields.String(validate=validate.OneOf(STATUSES)))
    assigned_user = any_of(ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID)))
    due_before = IsoDate(metadata={"description": "due strictly before this date"})
    due_after = IsoDate(metadata={"description": "due strictly after this date"})
    q = ma.fields.String(validate=[validate.Length(min=1, max=200), STORABLE_TEXT],
                         metadata={"description": "text in the title or description, any case"})
    ordering = any_of(ma.fields.String(validate=validate.OneOf(ORDERINGS)), load_default=["due_date"],
                      metadata={"description": "fields, '-' for descending; id breaks ties",
                                "default": ["due_date"]})  # as the array schema says it, not as sent
