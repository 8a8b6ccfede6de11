"""The clock that time-dependent rules read, injectable: an app's `TASKWIRE_CLOCK` (tests move it)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from flask import current_app

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def app_clock() -> Clock:
    """The current app's clock: `utc_now` unless the app's config sets `TASKWIRE_CLOCK`."""
    clock: Clock = current_app.config.get("TASKWIRE_CLOCK", utc_now)
    return clock
