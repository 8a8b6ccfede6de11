"""Failed logins: limited per account and address and per address, slowed per account, never a lockout from elsewhere.

The integration settings (tests/integration/support.py): 3 failures per account and address, 6 per
address, a 60 s window; the defaults for the rest: wrong passwords slowed beyond 10 failures of one
account, by at most 10 s. Time is a fake clock that only the test (and the throttle's waits) move.
"""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from taskwire_common.db import db
from users_svc.models import LoginFailure
from users_svc.throttling import LoginThrottle, LoginThrottled, ThrottleRules

LOGIN = "/api/auth/login/"


class FakeClock:
    """The app's clock and its way to wait: waiting moves the clock, and each wait is remembered."""

    def __init__(self):
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
        self.waits = []
        self.on_wait = None  # called with the seconds before the clock moves

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)

    def sleep(self, seconds):
        if self.on_wait:
            self.on_wait(seconds)
        self.waits.append(seconds)
        self.advance(seconds)


@pytest.fixture
def clock(users_app):
    fake = FakeClock()
    users_app.config.update(TASKWIRE_CLOCK=fake, TASKWIRE_SLEEP=fake.sleep)
    yield fake
    del users_app.config["TASKWIRE_CLOCK"], users_app.config["TASKWIRE_SLEEP"]


@pytest.fixture
def ann(make_user):
    make_user("ann")
    return "ann"


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def fail(client, username, address, times=1):
    for _ in range(times):
        assert attempt(client, username, "wrong-password", address).status_code == 401


def failures(users_app, **matching):
    with users_app.app_context():
        return db.session.execute(select(func.count()).select_from(LoginFailure).filter_by(**matching)).scalar_one()


def test_failures_of_one_account_from_one_address_throttle_that_pair_even_with_the_right_password(
        client, clock, ann):
    fail(client, ann, "10.0.0.1", times=3)
    throttled = attempt(client, ann, "password-1", "10.0.0.1")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "60"
    assert throttled.mimetype == "application/problem+json"


def test_the_right_password_from_another_address_signs_in_whatever_failed_elsewhere(client, clock, ann):
    fail(client, ann, "10.0.0.1", times=3)
    assert attempt(client, ann, "password-1", "10.0.0.1").status_code == 429
    assert attempt(client, ann, "password-1", "10.0.0.2").status_code == 200


def test_a_throttled_pair_may_try_again_once_enough_failures_leave_the_window(client, clock, ann):
    for _ in range(3):
        fail(client, ann, "10.0.0.1")
        clock.advance(10)
    # t = 30 s: the first failure (t = 0) leaves the window at 60 s
    assert attempt(client, ann, "password-1", "10.0.0.1").headers["Retry-After"] == "30"
    clock.advance(20)
    assert attempt(client, ann, "password-1", "10.0.0.1").headers["Retry-After"] == "10"  # not pushed back
    clock.advance(10)
    assert attempt(client, ann, "password-1", "10.0.0.1").status_code == 200


def test_a_throttled_attempt_is_not_counted(client, users_app, clock, ann):
    fail(client, ann, "10.0.0.1", times=3)
    for _ in range(5):
        assert attempt(client, ann, "wrong-password", "10.0.0.1").status_code == 429
    assert failures(users_app, username=ann, address="10.0.0.1") == 3


def test_throttling_one_account_leaves_the_others_alone(client, clock, ann, make_user):
    make_user("bob")
    fail(client, ann, "10.0.0.1", times=3)
    assert attempt(client, "bob", "password-1", "10.0.0.1").status_code == 200


def test_too_many_failures_from_one_address_throttle_it_for_every_account(client, clock, make_user):
    make_user("zed")
    for number in range(6):
        fail(client, f"guess{number}", "10.9.9.9")
    refused = attempt(client, "zed", "password-1", "10.9.9.9")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert attempt(client, "zed", "password-1", "10.9.9.8").status_code == 200


def test_a_success_forgets_that_accounts_failures_from_that_address_only(client, users_app, clock, ann):
    fail(client, ann, "10.0.0.1", times=2)
    fail(client, ann, "10.0.0.2", times=2)
    assert attempt(client, ann, "password-1", "10.0.0.1").status_code == 200
    assert failures(users_app, username=ann, address="10.0.0.1") == 0
    assert failures(users_app, username=ann, address="10.0.0.2") == 2
    fail(client, ann, "10.0.0.2")
    assert attempt(client, ann, "password-1", "10.0.0.2").status_code == 429


def test_an_account_under_attack_answers_wrong_passwords_later_and_later_up_to_the_cap(client, clock, ann):
    for number in range(16):  # 3 from each address: no address reaches a limit
        fail(client, ann, f"10.1.0.{number // 3 + 1}")
    assert clock.waits == [1, 2, 4, 8, 10, 10]  # failures 11 to 16 of the account


def test_the_right_password_is_never_slowed_however_many_failures_others_caused(client, clock, ann):
    for number in range(15):
        fail(client, ann, f"10.1.0.{number // 3 + 1}")
    waited = list(clock.waits)
    assert attempt(client, ann, "password-1", "10.2.0.1").status_code == 200
    assert clock.waits == waited
    fail(client, ann, "10.2.0.2")  # the real user's typo is slowed like any wrong password, not refused
    assert clock.waits == [*waited, 10]


def test_a_failure_is_counted_and_its_transaction_over_before_its_answer_waits(client, users_app, clock, ann):
    seen = []

    def check(seconds):
        seen.append((db.session().in_transaction(), failures_elsewhere()))

    def failures_elsewhere():  # what another connection (another worker) sees
        with db.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(LoginFailure)).scalar_one()

    clock.on_wait = check
    for number in range(11):
        fail(client, ann, f"10.1.0.{number // 3 + 1}")
    assert seen == [(False, 11)]


def test_attempts_in_flight_count_so_a_burst_gets_no_further_than_the_limit(users_app, clock, ann):
    """Side by side, attempts each see the others already counted: the 4th of one pair is refused."""
    settings = users_app.config["TASKWIRE_SETTINGS"]
    with users_app.app_context():
        throttle = LoginThrottle(ThrottleRules.of(settings), clock, clock.sleep)
        for _ in range(3):
            throttle.admit(ann, "10.0.0.1")  # none has finished: no success, no failure yet
        with pytest.raises(LoginThrottled):
            throttle.admit(ann, "10.0.0.1")
        throttle.admit(ann, "10.0.0.2")
    assert failures(users_app, username=ann) == 4


def test_a_client_reaching_the_service_directly_cannot_choose_its_address(client, clock, ann):
    def spoofing(number, password):
        return client.post(LOGIN, json={"username": ann, "password": password},
                           headers={"X-Forwarded-For": f"203.0.113.{number}", "X-Real-IP": f"203.0.113.{number}"},
                           environ_base={"REMOTE_ADDR": "10.6.6.6"})

    for number in range(3):
        assert spoofing(number, "wrong-password").status_code == 401
    assert spoofing(99, "password-1").status_code == 429  # every failure was the peer's, 10.6.6.6


def test_behind_the_gateway_the_address_is_the_clients_not_nginxs(client, users_app, clock, make_user):
    make_user("zed")
    [gateway] = users_app.config["TASKWIRE_SETTINGS"].trusted_proxies

    def via_gateway(username, password, client_address):
        # What nginx sends: the connection comes from the gateway, X-Forwarded-For ends with the client.
        return client.post(LOGIN, json={"username": username, "password": password},
                           headers={"X-Forwarded-For": f"192.0.2.1, {client_address}"},
                           environ_base={"REMOTE_ADDR": gateway})

    for number in range(6):
        assert via_gateway(f"guess{number}", "wrong-password", "203.0.113.7").status_code == 401
    assert via_gateway("zed", "password-1", "203.0.113.7").status_code == 429
    assert via_gateway("zed", "password-1", "198.51.100.2").status_code == 200
