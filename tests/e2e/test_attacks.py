"""Attacks through the gateway: forged tokens, hostile filters and bodies, reaching for others' data.

Each is refused with the right status, and nothing changes.
"""
import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
import requests
import websocket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.e2e.support import PROFILE
from tests.support import bearer, wait_for
from users_svc.signing_keys import KeyRing

PROTECTED = ["/api/auth/me/", "/api/tasks/", "/api/notifications/"]
TEXT_FIELDS_ODDITIES = ["Zoë’s 📋 task", "日本語のタスク", "مهمة", "<script>alert(1)</script>",
                        "'; DROP TABLE tasks; --", "\u200b\u2060zero-width", "a\tb\r\nc"]


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(user, **overrides):
    now = int(time.time())
    base = {"iss": "taskwire", "aud": "taskwire", "sub": str(user.id), "username": user.username, "role": "admin",
            "tv": 0, "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict, key=None, kid=None) -> str:
    """EdDSA, as users_svc signs: by default with the test stack's own current key (what an attacker does not have)."""
    ours = KeyRing(PROFILE.signing_key_dir).signing_key
    return jwt.encode(payload, key or ours.private_key, algorithm="EdDSA", headers={"kid": kid or ours.kid})


def hmac_signed(payload: dict, key: bytes, kid: str | None = None) -> str:
    """HS256 by hand with a public key as the secret (PyJWT itself refuses to: the attack it guards against)."""
    signing_input = b64({"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}) + "." + b64(payload)
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def forged_tokens(user):
    """Tokens an attacker could make; each would grant admin if it were accepted."""
    genuine = user.token
    header, payload, signature = genuine.split(".")
    kid = jwt.get_unverified_header(genuine)["kid"]
    jwks = requests.get(f"{PROFILE.gateway_url}/api/auth/.well-known/jwks.json", timeout=5).text
    return {
        "alg-none": b64({"alg": "none", "typ": "JWT", "kid": kid}) + "." + b64(claims(user)) + ".",
        # HS256 with the public key (its JWKS, as anyone can fetch it) as the secret, under the real kid.
        "hs-eddsa-confusion": hmac_signed(claims(user), jwks.encode(), kid),
        "hs256-any-secret": hmac_signed(claims(user), b"a-shared-secret-that-is-long-enough-32+", kid),
        "rs256-header": b64({"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + b64(claims(user)) + "." + signature,
        "missing-exp": signed(claims(user, exp=None)),
        "expired": signed(claims(user, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        "wrong-issuer": signed(claims(user, iss="evil")),
        "wrong-audience": signed(claims(user, aud="evil")),
        "tampered-payload": header + "." + b64({**json.loads(base64.urlsafe_b64decode(payload + "==")),
                                                "role": "admin"}) + "." + signature,
        "other-key-our-kid": signed(claims(user), key=Ed25519PrivateKey.generate(), kid=kid),
        "other-key-own-kid": signed(claims(user), key=Ed25519PrivateKey.generate(), kid="attacker-1"),
        "unknown-user": signed(claims(user, sub="987654321", username="nobody")),
    }


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize("kind", ["alg-none", "hs-eddsa-confusion", "hs256-any-secret", "rs256-header", "missing-exp",
                                  "expired", "wrong-issuer", "wrong-audience", "tampered-payload", "other-key-our-kid",
                                  "other-key-own-kid", "unknown-user"])
def test_forged_tokens_are_refused_by_every_service(gateway, user, path, kind):
    response = requests.get(gateway + path, headers=bearer(forged_tokens(user)[kind]), timeout=5)
    assert response.status_code == 401


@pytest.mark.parametrize("kind", ["alg-none", "hs256-any-secret", "tampered-payload", "expired", "other-key-our-kid",
                                  "unknown-user"])
def test_forged_tokens_are_refused_at_the_websocket_handshake(gateway, user, kind):
    ws = websocket.create_connection(gateway.replace("http", "ws") + "/ws/tasks/?token=" + forged_tokens(user)[kind],
                                     timeout=5, suppress_origin=True)
    try:
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(data[:2], "big") == 4401
    finally:
        ws.close()


@pytest.mark.parametrize("query", [
    "q=' OR 1=1 --", "q=%25", "q=_", "q=\\", "status=todo' OR '1'='1", "priority=high;DROP TABLE tasks",
    "assigned_user=1 OR 1=1", "ordering=title;DELETE FROM tasks", "ordering=(SELECT 1)", "due_date=2026-01-01'--",
    "q=" + "x" * 10_000, "page=99999999999999999999", "page_size=" + "9" * 50, "assigned_user=" + ",".join(["1"] * 500),
])
def test_hostile_filters_never_reach_sql_and_never_crash(gateway, user, assign_to, query):
    mine = assign_to(user, title="mine")
    response = requests.get(f"{gateway}/api/tasks/?{query}", headers=bearer(user.token), timeout=10)
    assert response.status_code in (200, 400, 414)
    if response.status_code != 200:
        assert response.headers["Content-Type"].startswith("application/problem+json")
    else:
        assert all(task["assigned_user"] == user.id for task in response.json())
    still = requests.get(f"{gateway}/api/tasks/{mine['id']}/", headers=bearer(user.token), timeout=5)
    assert still.status_code == 200 and still.json() == mine


@pytest.mark.parametrize("body,status", [
    ("[" * 600_000 + "]" * 600_000, 413),  # over the gateway's 1 MiB
    ("[" * 20_000 + "]" * 20_000, 400),  # under it, and deeper than any parser allows
    (json.dumps({"title": "x" * 900_000}), 400),
    (json.dumps({"title": "ok", "owner": 1, "created_by": 1}), 400),
    (json.dumps(["a", "list"]), 400),
    ("null", 400),
])
def test_hostile_bodies_are_refused_and_create_nothing(gateway, user, body, status):
    before = requests.get(f"{gateway}/api/tasks/", headers=bearer(user.token), timeout=5).headers["X-Total-Count"]
    response = requests.post(f"{gateway}/api/tasks/", data=body, timeout=10,
                             headers={**bearer(user.token), "Content-Type": "application/json"})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/problem+json")
    after = requests.get(f"{gateway}/api/tasks/", headers=bearer(user.token), timeout=5).headers["X-Total-Count"]
    assert after == before


@pytest.mark.parametrize("text", TEXT_FIELDS_ODDITIES)
def test_unicode_and_markup_in_text_fields_round_trip_unchanged(gateway, user, text):
    created = requests.post(f"{gateway}/api/tasks/", headers=bearer(user.token), timeout=5,
                            json={"title": text, "description": text})
    assert created.status_code == 201
    fetched = requests.get(f"{gateway}/api/tasks/{created.json()['id']}/", headers=bearer(user.token), timeout=5)
    assert (fetched.json()["title"], fetched.json()["description"]) == (text, text)


def test_a_user_cannot_reach_another_users_task_in_any_way(gateway, user, register, assign_to):
    other = register()
    theirs = assign_to(other, title="not yours")
    url = f"{gateway}/api/tasks/{theirs['id']}/"
    attempts = [("get", None), ("put", {"title": "mine"}), ("patch", {"status": "completed"}),
                ("patch", {"assigned_user": user.id}), ("delete", None)]
    for method, body in attempts:
        response = getattr(requests, method)(url, json=body, headers=bearer(user.token), timeout=5)
        assert response.status_code == 404, (method, body)
    assert requests.get(url, headers=bearer(other.token), timeout=5).json() == theirs


def test_a_user_cannot_take_a_task_for_someone_else(gateway, user, register, assign_to):
    other = register()
    assign_to(other)  # known to tasks_svc
    response = requests.post(f"{gateway}/api/tasks/", json={"title": "x", "assigned_user": other.id},
                             headers=bearer(user.token), timeout=5)
    assert response.status_code == 403


def test_a_user_cannot_read_or_mark_another_users_notification(gateway, admin_session, user, register, assign_to):
    other = register()
    assign_to(other, title="for the other")
    notes = wait_for(lambda: requests.get(f"{gateway}/api/notifications/", headers=bearer(other.token),
                                          timeout=5).json(), message="the other's notification")
    url = f"{gateway}/api/notifications/{notes[0]['id']}/"
    for method in ("get", "put", "patch"):
        response = getattr(requests, method)(url, json={"is_read": True}, headers=bearer(user.token), timeout=5)
        assert response.status_code == 404
    requests.post(f"{gateway}/api/notifications/mark-all-read/", headers=bearer(user.token), timeout=5)
    assert requests.get(url, headers=bearer(other.token), timeout=5).json()["is_read"] is False


def test_a_user_cannot_raise_their_own_role(gateway, user):
    me = f"{gateway}/api/auth/users/{user.id}/"
    assert requests.put(me + "role/", json={"role": "admin"}, headers=bearer(user.token), timeout=5).status_code == 403
    assert requests.patch(me, json={"is_active": True}, headers=bearer(user.token), timeout=5).status_code == 403
    register = requests.post(f"{gateway}/api/auth/register/", timeout=5, json={
        "username": user.username + "x", "email": f"x{user.username}@example.com", "password": "long-enough",
        "role": "admin"})
    assert register.status_code == 400 and "role" in register.json()["errors"]
    assert requests.get(f"{gateway}/api/auth/me/", headers=bearer(user.token), timeout=5).json()["role"] == "user"


def test_a_cross_origin_handshake_is_refused(gateway, user):
    ws = websocket.create_connection(gateway.replace("http", "ws") + "/ws/tasks/?token=" + user.token,
                                     origin="https://evil.example", timeout=5)
    try:
        opcode, data = ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(data[:2], "big") == 4403
    finally:
        ws.close()
