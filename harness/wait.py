"""Waiting for a condition with a deadline, never a bare sleep."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(condition: Callable[[], T], timeout: float, interval: float = 0.1) -> T:
    """condition()'s first truthy value within `timeout` seconds, or its last (falsy) value at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """As `poll`, but a deadline passed is a TimeoutError naming `what` was awaited."""
    value = poll(condition, timeout, interval)
    if not value:
        raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
    return value
