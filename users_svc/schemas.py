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
    id = ma.fields.Integer(dump_only=True)
    username = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
    is_staff = ma.fields.Boolean(dump_only=True)
    is_superuser = ma.fields.Boolean(dump_only=True)
    date_joined = ma.fields.DateTime(dump_only=True)
    last_login = ma.fields.DateTime(dump_only=True, allow_none=True)
    version = ma.fields.Integer(dump_only=True, metadata={
        "description": "1 when created, one more with every change; the ETag"})


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=[validate.Length(min=1, max=150), STORABLE_TEXT])
    password = ma.fields.String(required=True, load_only=True,
                                validate=[validate.Length(min=1, max=1024), STORABLE_TEXT])


class TokenSchema(ma.Schema):
    token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "seconds until the token expires"})
    user = ma.fields.Nested(UserSchema)


class MessageSchema(ma.Schema):
    detail = ma.fields.String()


class TicketSchema(ma.Schema):
    ticket = ma.fields.String(metadata={"description": "single use: open a WebSocket with ?ticket=<this>"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds until the ticket expires"})


class JwkSchema(ma.Schema):
    kty = ma.fields.String(metadata={"example": "OKP"})
    crv = ma.fields.String(metadata={"example": "Ed25519"})
    x = ma.fields.String(metadata={"description": "the public key, base64url"})
    kid = ma.fields.String(metadata={"description": "what a token's `kid` header names"})
    alg = ma.fields.String(metadata={"example": "EdDSA"})
    use = ma.fields.String(metadata={"example": "sig"})


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), metadata={"description": "newest first"})


class RedeemSchema(ma.Schema):
    ticket = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))


class RegisterSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=USERNAME)
    email = ma.fields.String(required=True, validate=EMAIL)
    password = ma.fields.String(required=True, load_only=True, validate=PASSWORD)


class UserCreateSchema(RegisterSchema):
    role = ma.fields.String(load_default="user", validate=validate.OneOf(ROLES))


class UserPatchSchema(ma.Schema):
    username = ma.fields.String(validate=USERNAME)
    email = ma.fields.String(validate=EMAIL)
    password = ma.fields.String(load_only=True, validate=PASSWORD)
    is_active = ma.fields.Boolean()


class RoleSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))


class UserListArgsSchema(PageArgsSchema):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    is_active = ma.fields.Boolean()
    q = ma.fields.String(validate=[validate.Length(min=1, max=150), STORABLE_TEXT],
                         metadata={"description": "part of the username or email"})
