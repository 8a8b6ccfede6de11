"""The in-memory revocation list every service keeps: revoked tokens, token versions, and which accounts exist."""
import time

from taskwire_common.auth import Principal
from taskwire_common.contracts import Revocation
from taskwire_common.revocation import UNKNOWN_USER_SECONDS, RevocationList


def principal(jti="t1", user_id=1, token_version=0):
    now = int(time.time())
    return Principal(user_id=user_id, username="u", role="user", jti=jti, issued_at=now,
                     expires_at=now + 60, token_version=token_version)


def knowing(*user_ids, lookup=None, clock=time.monotonic):
    revocations = RevocationList(lookup, clock)
    for user_id in user_ids:
        revocations.apply_account(user_id, True, 1)
    return revocations


def test_a_revoked_token_is_refused_and_others_of_the_user_are_not():
    revocations = knowing(1)
    revocations.apply(Revocation(user_id=1, jti="t1", expires_at=time.time() + 60))
    assert revocations.is_revoked(principal("t1"))
    assert not revocations.is_revoked(principal("t2"))


def test_a_raised_token_version_revokes_every_older_token_of_that_user_only():
    revocations = knowing(1, 2)
    revocations.apply(Revocation(user_id=1, token_version=2))
    assert revocations.is_revoked(principal(token_version=1))
    assert not revocations.is_revoked(principal(token_version=2))
    assert not revocations.is_revoked(principal(user_id=2, token_version=0))


def test_token_versions_never_go_back():
    revocations = knowing(1)
    revocations.apply(Revocation(user_id=1, token_version=3))
    revocations.apply(Revocation(user_id=1, token_version=2))  # a late, older event
    assert revocations.is_revoked(principal(token_version=2))


def test_snapshot_loads_tokens_users_and_accounts():
    revocations = RevocationList()
    revocations.load_snapshot({"tokens": [{"user_id": 5, "jti": "x", "expires_at": time.time() + 60}],
                               "users": [{"user_id": 6, "token_version": 1}],
                               "accounts": [{"user_id": 5, "is_active": True, "version": 1},
                                            {"user_id": 6, "is_active": True, "version": 1},
                                            {"user_id": 7, "is_active": False, "version": 2}]})
    assert revocations.is_revoked(principal("x", user_id=5))
    assert not revocations.is_revoked(principal("y", user_id=5))
    assert revocations.is_revoked(principal("y", user_id=6, token_version=0))
    assert not revocations.is_revoked(principal("y", user_id=6, token_version=1))
    assert revocations.is_revoked(principal("z", user_id=7))  # inactive


def test_a_token_of_a_user_the_list_does_not_know_is_refused():
    assert RevocationList().is_revoked(principal(user_id=99))


def test_an_account_deactivated_later_is_refused_and_an_older_description_changes_nothing():
    revocations = knowing(1)
    revocations.apply_account(1, False, 2)
    assert revocations.is_revoked(principal())
    revocations.apply_account(1, True, 1)  # a late, older event
    assert revocations.is_revoked(principal())
    revocations.apply_account(1, True, 3)  # reactivated
    assert not revocations.is_revoked(principal())


def test_an_unknown_user_is_looked_up_once_and_then_known():
    asked = []

    def lookup(user_id):
        asked.append(user_id)
        return {"user_id": user_id, "is_active": True, "version": 1, "token_version": 2}

    revocations = RevocationList(lookup)
    assert not revocations.is_revoked(principal(user_id=8, token_version=2))
    assert revocations.is_revoked(principal(user_id=8, token_version=1))  # older than the account's version
    assert not revocations.is_revoked(principal(jti="t2", user_id=8, token_version=2))
    assert asked == [8]


def test_a_user_a_lookup_did_not_find_is_not_looked_up_again_for_a_while():
    asked, now = [], [100.0]
    revocations = RevocationList(lambda user_id: asked.append(user_id), clock=lambda: now[0])
    assert revocations.is_revoked(principal(user_id=9))
    assert revocations.is_revoked(principal(user_id=9))
    assert asked == [9]
    now[0] += UNKNOWN_USER_SECONDS
    assert revocations.is_revoked(principal(user_id=9))
    assert asked == [9, 9]


def test_a_failed_lookup_refuses_the_token():
    def lookup(user_id):
        raise ValueError("users_svc answered garbage")

    assert RevocationList(lookup).is_revoked(principal(user_id=10))


def test_expired_revocations_are_forgotten():
    revocations = knowing(1)
    revocations.apply(Revocation(user_id=1, jti="old", expires_at=time.time() - 1))
    revocations.apply(Revocation(user_id=1, jti="new", expires_at=time.time() + 60))
    assert "old" not in revocations._tokens and "new" in revocations._tokens
