"""Token verification: only tokens we signed, with our algorithm, issuer, audience and a live expiry, pass."""
import base64
import json
import time

import jwt
import pytest

from taskwire_common.auth import InvalidToken, TokenVerifier, token_from_authorization
from taskwire_common.settings import JWTSettings

SETTINGS = JWTSettings(secret_key="unit-test-secret-that-is-long-enough-for-every-hmac-algorithm-we-try!!",
                       issuer="taskwire", audience="taskwire", ttl_seconds=3600)


def claims(**overrides):
    now = int(time.time())
    base = {"iss": "taskwire", "aud": "taskwire", "sub": "7", "username": "ann", "role": "user",
            "tv": 0, "jti": "abc", "iat": now, "exp": now + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload, key=SETTINGS.secret_key, algorithm="HS256"):
    return jwt.encode(payload, key, algorithm=algorithm)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


verifier = TokenVerifier(SETTINGS)


def test_valid_token_gives_its_principal():
    principal = verifier.verify(sign(claims()))
    assert (principal.user_id, principal.username, principal.role, principal.token_version) == (7, "ann", "user", 0)
    assert not principal.is_admin


def test_expired_token_is_refused():
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(sign(claims(iat=int(time.time()) - 100, exp=int(time.time()) - 60)))


def test_a_token_verified_before_is_refused_once_it_expires(monkeypatch):
    token = sign(claims(exp=int(time.time()) + 30))
    assert verifier.verify(token).user_id == 7
    later = time.time() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "iss", "aud", "sub", "tv"])
def test_token_missing_a_required_claim_is_refused(missing):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(claims(**{missing: None})))


@pytest.mark.parametrize("claim,value", [("iss", "someone-else"), ("aud", "another-app"), ("role", "root")])
def test_token_for_another_issuer_audience_or_role_is_refused(claim, value):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(claims(**{claim: value})))


def test_token_signed_with_another_key_is_refused():
    with pytest.raises(InvalidToken, match="Signature"):
        verifier.verify(sign(claims(), key="another-secret-that-is-long-enough!!"))


def test_tampered_payload_is_refused():
    header, _payload, signature = sign(claims()).split(".")
    forged = ".".join([header, b64(claims(role="admin")), signature])
    with pytest.raises(InvalidToken):
        verifier.verify(forged)


def test_alg_none_is_refused():
    unsigned = b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims(role="admin")) + "."
    with pytest.raises(InvalidToken):
        verifier.verify(unsigned)


def test_other_hmac_algorithm_is_refused():
    with pytest.raises(InvalidToken, match="alg value is not allowed"):
        verifier.verify(sign(claims(), algorithm="HS512"))


def test_garbage_is_refused():
    with pytest.raises(InvalidToken):
        verifier.verify("not-a-jwt")


@pytest.mark.parametrize("header,token", [
    ("Bearer abc.def.ghi", "abc.def.ghi"),
    ("Token abc.def.ghi", "abc.def.ghi"),
    ("token   abc.def.ghi  ", "abc.def.ghi"),
    ("Basic dXNlcjpwYXNz", None),
    ("Bearer", None),
    ("", None),
    (None, None),
])
def test_both_django_token_and_bearer_schemes_are_read(header, token):
    assert token_from_authorization(header) == token
