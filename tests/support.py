"""Helpers every test layer imports: waiting for a condition, auth headers."""
import time

import pytest


def wait_for(condition, timeout: float = 5.0, interval: float = 0.02, message: str = "condition"):
    """Poll until condition() is truthy and return its value; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def bearer(token: str, scheme: str = "Bearer") -> dict:
    return {"Authorization": f"{scheme} {token}"}
