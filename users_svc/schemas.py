"""users_svc request and response schemas."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from taskwire_common.errors import STORABLE_TEXT
from taskwire_common.pagination import PageArgsSchema

from .models import ROLES


def single_line(message: str):
    """Python's "$" also matches before a final newline; a Regexp alone would let "ann\n" in."""
    def check(value: str) -> None:
        if "\n" in value:
            raise ma.ValidationError(message)
    return check


USERNAME_ERROR = "Letters, digits and @/./+/-/_ only."
EMAIL_ERROR = "Not a valid email address."
# The HTML standard's "valid e-mail address", with a dot required in the domain. A pattern rather
# than format: email, so that the OpenAPI document states exactly what is accepted.
EMAIL_PATTERN = (r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                 r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
# Lists, not validate.And: the OpenAPI document then shows each limit (length, pattern).
USERNAME = [validate.Length(min=1, max=150), single_line(USERNAME_ERROR),
            validate.Regexp(r"^[\w.@+-]+$", error=USERNAME_ERROR)]
PASSWORD = [validate.Length(min=8, max=128), STORABLE_TEXT]
EMAIL = [validate.Length(min=3, max=254), single_line(EMAIL_ERROR),
         validate.Regexp(EMAIL_PATTERN, error=EMAIL_ERROR)]


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True, metadata={"example": 7})
    username = ma.fields.String(dump_only=True, metadata={"example": "ann"})
    email = ma.fields.String(dump_only=True, metadata={"example": "ann@example.com"})
    role = ma.fields.String(dump_only=True, metadata={"example": "user"})
    is_active = ma.fields.Boolean(dump_only=True, metadata={"example": True})
    is_staff = ma.fields.Boolean(dump_only=True, metadata={"example": False})
    is_superuser = ma.fields.Boolean(dump_only=True, metadata={"example": False})
    date_joined = ma.fields.DateTime(dump_only=True, metadata={"example": "2026-11-30T09:12:44.120385+00:00"})
    last_login = ma.fields.DateTime(dump_only=True, allow_none=True,
                                    metadata={"example": "2026-12-04T08:01:10.554210+00:00"})
    version = ma.fields.Integer(dump_only=True, metadata={
        "description": "1 when created, one more with every change; the ETag", "example": 3})


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=[validate.Length(min=1, max=150), STORABLE_TEXT],
                                metadata={"example": "ann"})
    password = ma.fields.String(required=True, load_only=True,
                                validate=[validate.Length(min=1, max=1024), STORABLE_TEXT],
                                metadata={"example": "correct horse battery"})


class TokenSchema(ma.Schema):
    token = ma.fields.String(metadata={"example": "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYxMjA0In0.eyJzdWIiOiI3In0.c2ln"})
    token_type = ma.fields.String(metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds until the token expires", "example": 28800})
    user = ma.fields.Nested(UserSchema)


class MessageSchema(ma.Schema):
    detail = ma.fields.String(metadata={"example": "Signed out."})


class TicketSchema(ma.Schema):
    ticket = ma.fields.String(metadata={"description": "single use: open a WebSocket with ?ticket=<this>",
                                        "example": "Xq3v9Zb0kP2mL7rT1yW8sA4dF6gH5jK0"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds until the ticket expires", "example": 30})


class JwkSchema(ma.Schema):
    kty = ma.fields.String(metadata={"example": "OKP"})
    crv = ma.fields.String(metadata={"example": "Ed25519"})
    x = ma.fields.String(metadata={"description": "the public key, base64url",
                                   "example": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    kid = ma.fields.String(metadata={"description": "what a token's `kid` header names", "example": "20261204T080000Z"})
    alg = ma.fields.String(metadata={"example": "EdDSA"})
    use = ma.fields.String(metadata={"example": "sig"})


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), metadata={"description": "newest first"})


class RedeemSchema(ma.Schema):
    ticket = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128),
                              metadata={"example": "Xq3v9Zb0kP2mL7rT1yW8sA4dF6gH5jK0"})


class RegisterSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=USERNAME, metadata={"example": "ann"})
    email = ma.fields.String(required=True, validate=EMAIL, metadata={"example": "ann@example.com"})
    password = ma.fields.String(required=True, load_only=True, validate=PASSWORD,
                                metadata={"example": "correct horse battery"})


class UserCreateSchema(RegisterSchema):
    role = ma.fields.String(load_default="user", validate=validate.OneOf(ROLES), metadata={"example": "user"})


class UserPatchSchema(ma.Schema):
    username = ma.fields.String(validate=USERNAME, metadata={"example": "ann.lee"})
    email = ma.fields.String(validate=EMAIL, metadata={"example": "ann.lee@example.com"})
    password = ma.fields.String(load_only=True, validate=PASSWORD, metadata={"example": "a new long password"})
    is_active = ma.fields.Boolean(metadata={"example": False})


class RoleSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES), metadata={"example": "admin"})


USER_ORDERINGS = ("id", "-id", "username", "-username")


class UserListArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    is_active = ma.fields.Boolean()
    q = ma.fields.String(validate=[validate.Length(min=1, max=150), STORABLE_TEXT],
                         metadata={"description": "part of the username or email"})
    ordering = ma.fields.String(load_default="id", validate=validate.OneOf(USER_ORDERINGS),
                                metadata={"description": "id (oldest first, the default), -id (newest first), "
                                                         "username or -username"})
