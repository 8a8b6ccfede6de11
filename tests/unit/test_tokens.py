"""Token verification: only EdDSA tokens signed by a key of the set, with our issuer, audience and a live expiry."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taskwire_common.auth import InvalidToken, TokenVerifier, token_from_authorization
from taskwire_common.settings import JWTSettings

SETTINGS = JWTSettings(issuer="taskwire", audience="taskwire", ttl_seconds=3600)
OURS, STRANGER = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()


class Keys:
    """The verifier's key set: kid -> public key; a key can be retired."""

    def __init__(self):
        self.by_kid = {"k1": OURS.public_key()}

    def public_key(self, kid):
        return self.by_kid.get(kid)


def claims(**overrides):
    now = int(time.time())
    base = {"iss": "taskwire", "aud": "taskwire", "sub": "7", "username": "ann", "role": "user",
            "tv": 0, "jti": "abc", "iat": now, "exp": now + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload, key=OURS, kid="k1"):
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid} if kid else None)


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hmac_signed(payload, secret: bytes, kid="k1"):
    """HS256 by hand (PyJWT refuses to sign with a key that looks like a public key)."""
    signing_input = b64({"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64(payload)
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


@pytest.fixture
def keys():
    return Keys()


@pytest.fixture
def verifier(keys):
    return TokenVerifier(SETTINGS, keys)


def test_valid_token_gives_its_principal(verifier):
    principal = verifier.verify(sign(claims()))
    assert (principal.user_id, principal.username, principal.role, principal.token_version) == (7, "ann", "user", 0)
    assert not principal.is_admin


def test_expired_token_is_refused(verifier):
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(sign(claims(iat=int(time.time()) - 100, exp=int(time.time()) - 60)))


def test_a_token_verified_before_is_refused_once_it_expires(verifier, monkeypatch):
    token = sign(claims(exp=int(time.time()) + 30))
    assert verifier.verify(token).user_id == 7
    later = time.time() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)


def test_a_token_verified_before_is_refused_once_its_key_is_retired(verifier, keys):
    token = sign(claims())
    assert verifier.verify(token).user_id == 7
    del keys.by_kid["k1"]
    with pytest.raises(InvalidToken, match="retired"):
        verifier.verify(token)


def test_tokens_of_every_key_in_the_set_verify(verifier, keys):
    newer = Ed25519PrivateKey.generate()
    keys.by_kid["k2"] = newer.public_key()
    assert verifier.verify(sign(claims(), newer, "k2")).user_id == 7
    assert verifier.verify(sign(claims(jti="other"))).user_id == 7


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "iss", "aud", "sub", "tv"])
def test_token_missing_a_required_claim_is_refused(verifier, missing):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(claims(**{missing: None})))


@pytest.mark.parametrize("claim,value", [("iss", "someone-else"), ("aud", "another-app"), ("role", "root")])
def test_token_for_another_issuer_audience_or_role_is_refused(verifier, claim, value):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(claims(**{claim: value})))


def test_token_signed_with_another_key_under_our_kid_is_refused(verifier):
    with pytest.raises(InvalidToken, match="Signature"):
        verifier.verify(sign(claims(), key=STRANGER))


def test_token_naming_an_unknown_or_no_kid_is_refused(verifier):
    with pytest.raises(InvalidToken, match="no key"):
        verifier.verify(sign(claims(), key=STRANGER, kid="k9"))
    with pytest.raises(InvalidToken, match="key id"):
        verifier.verify(sign(claims(), kid=None))


def test_tampered_payload_is_refused(verifier):
    header, _payload, signature = sign(claims()).split(".")
    forged = ".".join([header, b64(claims(role="admin")), signature])
    with pytest.raises(InvalidToken):
        verifier.verify(forged)


def test_alg_none_is_refused(verifier):
    unsigned = b64({"alg": "none", "typ": "JWT", "kid": "k1"}) + "." + b64(claims(role="admin")) + "."
    with pytest.raises(InvalidToken):
        verifier.verify(unsigned)


@pytest.mark.parametrize("secret", [b"a-shared-secret-that-is-long-enough-for-hs256!!", "public-key"])
def test_hs256_is_refused_whatever_the_secret_even_the_public_key(verifier, secret):
    if secret == "public-key":  # the algorithm-confusion attack: the public key's bytes as the HMAC secret
        secret = OURS.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with pytest.raises(InvalidToken, match="EdDSA"):
        verifier.verify(hmac_signed(claims(role="admin"), secret))


def test_garbage_is_refused(verifier):
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
