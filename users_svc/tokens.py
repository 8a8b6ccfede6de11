"""Issuing access tokens (only users_svc signs; every service verifies)."""
from __future__ import annotations

import time
import uuid

import jwt

from taskwire_common.settings import JWTSettings

from .models import User


def issue_token(user: User, settings: JWTSettings) -> tuple[str, int]:
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
    return jwt.encode(claims, settings.secret_key, algorithm=settings.algorithm), settings.ttl_seconds
