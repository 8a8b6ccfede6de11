"""Spoofed X-Forwarded-For and lockout attempts against the running stack: neither moves the login throttle.

Every client here has an address of its own: the stack listens on loopback, and Linux routes all of
127.0.0.0/8 there, so a client that binds 127.x.y.z before connecting is seen as that address. The
gateway connects to the services from the profile's `gateway_source_address`, the one address whose
X-Forwarded-For the services believe. Limits come from the profile, so this runs on any of them.
"""
import secrets
import time

import pytest
import requests

from tests.e2e.support import PROFILE, STACK, session_from
from users_svc.config import UsersSettings

LOGIN = "/api/auth/login/"
USERS_SVC = f"http://127.0.0.1:{PROFILE.process('users_svc').port}"  # straight to the service, past the gateway



def fresh_loopback_address():
    """A loopback address no other client of the suite uses (they use 127.0.0.1 and 127.0.0.2)."""
    return f"127.{secrets.randbelow(254) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def users_setting(name):
    """One of users_svc's integer settings as the stack runs it: the profile's, else the service's default."""
    value = STACK.process_env("users_svc").get(name.upper())
    return int(value) if value else getattr(UsersSettings, name)


@pytest.fixture
def client_at():
    """Sessions that connect from an address of their own (a fresh one unless named)."""
    sessions = []

    def open_(address=None):
        session = session_from(address or fresh_loopback_address())
        sessions.append(session)
        return session

    yield open_
    for session in sessions:
        session.close()


def log_in(session, base, username, password, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return session.post(base + LOGIN, json={"username": username, "password": password}, headers=headers, timeout=30)


def test_a_forwarded_for_sent_straight_to_users_svc_is_not_the_address_it_counts(client_at, user):
    attacker = client_at()
    max_failures = users_setting("login_max_failures")
    for number in range(max_failures):  # a new address each time, were X-Forwarded-For believed
        assert log_in(attacker, USERS_SVC, user.username, "wrong-password", f"198.51.100.{number}").status_code == 401
    refused = log_in(attacker, USERS_SVC, user.username, user.password, "198.51.100.250")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_through_the_gateway_the_address_counted_is_the_clients_own_whatever_it_forwards(client_at, gateway, user):
    client, neighbour = client_at(), client_at()
    for number in range(users_setting("login_max_failures")):
        assert log_in(client, gateway, user.username, "wrong-password", f"198.51.100.{number}").status_code == 401
    assert log_in(client, gateway, user.username, user.password, "198.51.100.250").status_code == 429
    # Counted for that client, not for the gateway: another address signs in, whatever it forwards.
    assert log_in(neighbour, gateway, user.username, user.password, "198.51.100.0").status_code == 200


@pytest.mark.parametrize("forwarded_for", [None, "127.0.0.1", PROFILE.gateway_source_address],
                         ids=["plain", "naming-the-users-address", "naming-the-gateway"])
def test_an_attacker_at_another_address_cannot_lock_the_user_out(client_at, gateway, user, forwarded_for):
    attacker = client_at()
    answers = [log_in(attacker, USERS_SVC, user.username, "wrong-password", forwarded_for).status_code
               for _ in range(3 * users_setting("login_max_failures"))]
    assert set(answers) == {401, 429} and answers[-1] == 429
    # The user, through the gateway from their own address (127.0.0.1): a typo is a 401, the password signs in.
    assert requests.post(f"{gateway}{LOGIN}", json={"username": user.username, "password": "typo"},
                         timeout=30).status_code == 401
    assert requests.post(f"{gateway}{LOGIN}", json={"username": user.username, "password": user.password},
                         timeout=30).status_code == 200


def test_an_account_attacked_from_many_addresses_answers_wrong_passwords_slower_but_lets_the_user_in(
        client_at, gateway, user):
    per_address, slow_after = users_setting("login_max_failures"), users_setting("login_slow_after_failures")
    attackers = [client_at() for _ in range(slow_after // per_address + 1)]
    for number in range(slow_after):
        attacker = attackers[number // per_address]
        assert log_in(attacker, USERS_SVC, user.username, "wrong-password").status_code == 401
    started = time.monotonic()
    assert log_in(attackers[-1], USERS_SVC, user.username, "wrong-password").status_code == 401
    first_delay = min(1, users_setting("login_max_delay_seconds"))
    assert time.monotonic() - started >= first_delay * 0.9  # the account's first slowed answer
    signed_in = requests.post(f"{gateway}{LOGIN}", json={"username": user.username, "password": user.password},
                              timeout=30)
    assert signed_in.status_code == 200
