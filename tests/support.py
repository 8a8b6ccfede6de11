"""Helpers every test layer imports: waiting for a condition, requests sent at once, auth headers, tokens."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.api import bearer
from harness.wait import poll

__all__ = ["at_once", "bearer", "make_token", "wait_for"]


def wait_for(condition, timeout: float = 5.0, interval: float = 0.02, message: str = "condition"):
    """Poll until condition() is truthy and return its value; fail the test at the deadline."""
    value = poll(condition, timeout, interval)
    if not value:
        pytest.fail(f"timed out after {timeout} s waiting for {message}")
    return value


def at_once(count: int, request):
    """request(number) from `count` threads released together, for races; the answers in number order."""
    start = threading.Barrier(count)

    def send(number):
        start.wait()
        return request(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(send, range(count)))


def make_token(user_id: int, username: str, role: str = "user", token_version: int = 0) -> str:
    """A token as users_svc would sign it with the development key (for tests of other services)."""
    import uuid

    import jwt

    from taskwire_common.settings import read_jwt_settings

    settings = read_jwt_settings()
    now = int(time.time())
    claims = {"iss": settings.issuer, "aud": settings.audience, "sub": str(user_id), "username": username,
              "role": role, "tv": token_version, "jti": uuid.uuid4().hex, "iat": now,
              "exp": now + settings.ttl_seconds}
    return jwt.encode(claims, settings.secret_key, algorithm=settings.algorithm)
