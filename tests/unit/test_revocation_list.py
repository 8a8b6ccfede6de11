"""The in-memory revocation list every service keeps."""
import time

from taskwire_common.auth import Principal
from taskwire_common.contracts import Revocation
from taskwire_common.revocation import RevocationList


def principal(jti="t1", user_id=1, token_version=0):
    now = int(time.time())
    return Principal(user_id=user_id, username="u", role="user", jti=jti, issued_at=now,
                     expires_at=now + 60, token_version=token_version)


def test_a_revoked_token_is_refused_and_others_of_the_user_are_not():
    revocations = RevocationList()
    revocations.apply(Revocation(user_id=1, jti="t1", expires_at=time.time() + 60))
    assert revocations.is_revoked(principal("t1"))
    assert not revocations.is_revoked(principal("t2"))


def test_a_raised_token_version_revokes_every_older_token_of_that_user_only():
    revocations = RevocationList()
    revocations.apply(Revocation(user_id=1, token_version=2))
    assert revocations.is_revoked(principal(token_version=1))
    assert not revocations.is_revoked(principal(token_version=2))
    assert not revocations.is_revoked(principal(user_id=2, token_version=0))


def test_token_versions_never_go_back():
    revocations = RevocationList()
    revocations.apply(Revocation(user_id=1, token_version=3))
    revocations.apply(Revocation(user_id=1, token_version=2))  # a late, older event
    assert revocations.is_revoked(principal(token_version=2))


def test_snapshot_loads_tokens_and_users():
    revocations = RevocationList()
    revocations.load_snapshot({"tokens": [{"user_id": 5, "jti": "x", "expires_at": time.time() + 60}],
                               "users": [{"user_id": 6, "token_version": 1}]})
    assert revocations.is_revoked(principal("x", user_id=5))
    assert revocations.is_revoked(principal("y", user_id=6, token_version=0))


def test_expired_revocations_are_forgotten():
    revocations = RevocationList()
    revocations.apply(Revocation(user_id=1, jti="old", expires_at=time.time() - 1))
    revocations.apply(Revocation(user_id=1, jti="new", expires_at=time.time() + 60))
    assert "old" not in revocations._tokens and "new" in revocations._tokens
