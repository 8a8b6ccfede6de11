"""Idempotency keys (the IETF `Idempotency-Key` header draft), the HTTP side: the header, the answer, the errors.

A client that sends `Idempotency-Key: <key>` with a create may send the same request again (after a
timeout, a dropped connection) and make nothing twice. Within `KEY_TTL` of the first answer, the same
key from the same caller with the same body gets that answer again, byte for byte, with
`Idempotent-Replayed: true`; with another body it gets 422; while the first request is still running,
409. How the answers are kept is `idempotency_store`'s part.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Response, request
from werkzeug.exceptions import BadRequest, Conflict, UnprocessableEntity

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Visible ASCII, spaces inside allowed; the draft's quoted form ("…", a structured-field string) is unquoted first.
VALID_KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
VALID_KEY = re.compile(VALID_KEY_PATTERN)
ANONYMOUS = "anonymous"  # the caller of an unauthenticated create (self sign-up)


def signed_in_caller(user_id: int) -> str:
    """Whose keys these are, for a signed-in caller: one user's key never replays to another."""
    return f"user:{user_id}"


class InvalidKey(BadRequest):
    def __init__(self) -> None:
        super().__init__()
        self.data = {"message": f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
                     "errors": {KEY_HEADER: ["Not a valid idempotency key."]}}


class KeyInFlight(Conflict):
    description = "A request with this Idempotency-Key is still in progress; retry it once that one has answered."

    def __init__(self) -> None:
        super().__init__()
        self.data = {"headers": {"Retry-After": "1"}}


class KeyReused(UnprocessableEntity):
    description = "This Idempotency-Key was already used with a different request; use a new key for a new request."


@dataclass(frozen=True)
class Answer:
    """What a create answered: replayed as it was for a retry with the same key."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    replayed: bool = False

    def response(self) -> Response:
        response = Response(self.body, status=self.status, mimetype="application/json")
        response.headers.update(dict(self.headers))
        if self.replayed:
            response.headers[REPLAYED_HEADER] = "true"
        return response


@dataclass(frozen=True)
class RequestKey:
    """An Idempotency-Key as a service keeps it: whose it is, and what request it came with."""

    caller: str
    key: str
    fingerprint: str


def requested_key(caller: str, secret_fields: Iterable[str] = ()) -> RequestKey | None:
    """The request's Idempotency-Key, or None without one; a malformed key is a 400 naming the header.

    The fingerprint is a SHA-256 of the method, the path and the JSON body (key order and spacing
    aside). `secret_fields` (a password) are left out of it, so a stored fingerprint never offers a
    fast way to guess one; whoever replays such a create must confirm them another way.
    """
    raw = request.headers.get(KEY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key.startswith('"') and key.endswith('"'):
        key = key[1:-1]
    if len(key) > MAX_KEY_LENGTH or not VALID_KEY.match(key):
        raise InvalidKey()
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        hidden = set(secret_fields)
        body = {name: value for name, value in body.items() if name not in hidden}
    described = json.dumps([request.method, request.path, body], sort_keys=True, separators=(",", ":"))
    return RequestKey(caller, key, hashlib.sha256(described.encode()).hexdigest())
