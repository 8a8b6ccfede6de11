"""Login throttling that bounds password guessing without letting anyone lock a user out from elsewhere.

What counts is the failed logins of the last LOGIN_THROTTLE_SECONDS (the `login_failures` rows):

- per account and address: after LOGIN_MAX_FAILURES failures of one username from one address, that
  address gets 429 for that username (whatever the password) until enough of them leave the window;
- per address: after LOGIN_MAX_FAILURES_PER_ADDRESS failures from one address, whatever the
  usernames, that address gets 429 for every username;
- per account, from every address: once a username has more than LOGIN_SLOW_AFTER_FAILURES, each
  further wrong password waits before its 401: 1 s, 2 s, 4 s… at most LOGIN_MAX_DELAY_SECONDS. An
  answer gets slower; no one is refused. A right password from an address under neither limit
  always signs in, at once, however many failures others caused.

An attempt is counted when it starts (its row committed before the password is checked) and forgotten
when it succeeds, so that attempts sent side by side see one another: a burst gets no further than
the limits. A success forgets that account's failures from that address only. The waits hold no
database connection; under gevent a waiting answer costs a greenlet, and the two limits bound how many
one address can have waiting (LOGIN_MAX_FAILURES_PER_ADDRESS).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import gevent
from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select

from taskwire_common.clock import Clock
from taskwire_common.db import db

from .models import LoginFailure

if TYPE_CHECKING:
    from .config import UsersSettings

Sleep = Callable[[float], None]
FIRST_DELAY_SECONDS = 1.0
USERNAME_LENGTH = 150  # the columns' sizes: a key is stored and looked up alike
ADDRESS_LENGTH = 64


class LoginThrottled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class ThrottleRules:
    max_per_pair: int  # LOGIN_MAX_FAILURES: one username from one address
    max_per_address: int  # LOGIN_MAX_FAILURES_PER_ADDRESS
    window: timedelta  # LOGIN_THROTTLE_SECONDS
    slow_after: int  # LOGIN_SLOW_AFTER_FAILURES: one username from every address
    max_delay_seconds: float  # LOGIN_MAX_DELAY_SECONDS

    @classmethod
    def of(cls, settings: UsersSettings) -> ThrottleRules:
        return cls(settings.login_max_failures, settings.login_max_failures_per_address,
                   timedelta(seconds=settings.login_throttle_seconds), settings.login_slow_after_failures,
                   settings.login_max_delay_seconds)

    def delay_after_failure(self, account_failures: int) -> float:
        """Seconds a wrong password waits before its 401 when its account has `account_failures` in the
        window, this one included: none up to `slow_after`, then 1 s, doubling with each, capped."""
        beyond = account_failures - self.slow_after
        if beyond <= 0:
            return 0.0
        return min(self.max_delay_seconds, FIRST_DELAY_SECONDS * 2.0 ** min(beyond - 1, 32))


class LoginThrottle:
    """One login attempt's throttle: `admit` it, then `succeeded` or `failed`."""

    def __init__(self, rules: ThrottleRules, clock: Clock, sleep: Sleep):
        self.rules = rules
        self.clock = clock
        self.sleep = sleep

    def admit(self, username: str, address: str) -> None:
        """Count the attempt as a failure until it succeeds, and commit; or raise LoginThrottled, uncounted."""
        username, address, now = account_key(username), address[:ADDRESS_LENGTH], self.clock()
        self._refuse_over_limit(username, address, now)  # a throttled client costs reads only
        db.session.execute(delete(LoginFailure).where(or_(LoginFailure.username == username,
                                                          LoginFailure.address == address),
                                                      LoginFailure.failed_at <= now - self.rules.window))
        attempt = LoginFailure(username=username, address=address, failed_at=now)
        db.session.add(attempt)
        db.session.flush()
        attempt_id = attempt.id
        db.session.commit()
        try:  # again, now that attempts which started alongside this one are counted too
            self._refuse_over_limit(username, address, now, LoginFailure.id != attempt_id)
        except LoginThrottled:
            db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
            db.session.commit()
            raise

    def succeeded(self, username: str, address: str) -> None:
        """Forget this account's failures from this address (this attempt's too); the caller commits."""
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == account_key(username),
                                                      LoginFailure.address == address[:ADDRESS_LENGTH]))

    def failed(self, username: str, address: str) -> None:
        """The attempt stays counted; end the transaction, then wait as long as the account's failures say."""
        since = self.clock() - self.rules.window
        failures = db.session.execute(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.username == account_key(username), LoginFailure.failed_at > since)).scalar_one()
        db.session.commit()  # no connection is held while waiting
        delay = self.rules.delay_after_failure(failures)
        if delay > 0:
            self.sleep(delay)

    def _refuse_over_limit(self, username: str, address: str, now: datetime, *besides: ColumnElement[bool]) -> None:
        """LoginThrottled when the pair or the address already has its limit of recent failures."""
        recent = (LoginFailure.failed_at > now - self.rules.window, *besides)
        waits = [self._seconds_until_under(self.rules.max_per_pair, now, LoginFailure.username == username,
                                           LoginFailure.address == address, *recent),
                 self._seconds_until_under(self.rules.max_per_address, now, LoginFailure.address == address, *recent)]
        if any(waits):
            raise LoginThrottled(max(waits))

    def _seconds_until_under(self, limit: int, now: datetime, *matching: ColumnElement[bool]) -> int:
        """0 when fewer than `limit` failures match; else the seconds until that is so."""
        blocking = db.session.execute(
            select(LoginFailure.failed_at).where(*matching)
            .order_by(LoginFailure.failed_at.desc()).offset(max(limit - 1, 0)).limit(1)
        ).scalar_one_or_none()
        if blocking is None:
            return 0
        return max(1, math.ceil((blocking + self.rules.window - now).total_seconds()))


def app_sleep() -> Sleep:
    """How the current app waits: gevent's sleep (a greenlet waits, not the worker) unless `TASKWIRE_SLEEP` is set."""
    sleep: Sleep = current_app.config.get("TASKWIRE_SLEEP", gevent.sleep)
    return sleep


def account_key(username: str) -> str:
    return username.lower()[:USERNAME_LENGTH]
