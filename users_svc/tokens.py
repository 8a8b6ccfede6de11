"""Issuing access tokens: only users_svc signs (EdDSA, with the newest key of its key ring); every service verifies."""
from __future__ import annotations

import time
import uuid

import jwt

from taskwire_common.auth import ALGORITHM
from taskwire_common.settings import JWTSettings

from .models import User
from .signing_keys import KeyRing


def issue_token(user: User, settings: JWTSettings, keys: KeyRing) -> tuple[str, int]:
    """A signed JWT for the user and its lifetime in seconds."""
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": str(user.id),
        "username": user.username,
        "role": user.role,
        "tv": user.token_version,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + settings.ttl_seconds,
    }
    key = keys.signing_key
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
    return token, settings.ttl_seconds
