"""Login throttling: too many recent failures for one username or one address answer 429 for a while."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select

from taskwire_common.db import db

from .models import LoginFailure


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class LoginThrottle:
    def __init__(self, max_per_username: int, max_per_address: int, window_seconds: int):
        self.max_per_username = max_per_username
        self.max_per_address = max_per_address
        self.window = timedelta(seconds=window_seconds)

    def check(self, username: str, address: str) -> None:
        """Raise LoginThrottled while either the username or the address has too many recent failures."""
        now = datetime.now(timezone.utc)
        since = now - self.window
        for column, value, limit in ((LoginFailure.username, username.lower(), self.max_per_username),
                                     (LoginFailure.address, address, self.max_per_address)):
            count, oldest = db.session.execute(
                select(func.count(), func.min(LoginFailure.failed_at))
                .where(column == value, LoginFailure.failed_at > since)
            ).one()
            if count >= limit:
                raise LoginThrottled(max(1, math.ceil((oldest + self.window - now).total_seconds())))

    def record_failure(self, username: str, address: str) -> None:
        cutoff = datetime.now(timezone.utc) - self.window
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower(),
                                                      LoginFailure.failed_at <= cutoff))
        db.session.execute(delete(LoginFailure).where(LoginFailure.address == address,
                                                      LoginFailure.failed_at <= cutoff))
        db.session.add(LoginFailure(username=username.lower()[:150], address=address[:64]))

    def forget_failures(self, username: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == username.lower()))
