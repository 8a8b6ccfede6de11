"""users_svc auth endpoints against a real PostgreSQL: login, tokens, logout, me, register, input errors."""
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from taskwire_common.internal import HEADER
from taskwire_common.settings import DEV_INTERNAL_API_KEY
from tests.support import bearer, it_key_dir
from users_svc.signing_keys import KeyRing

LOGIN = "/api/auth/login/"


def test_login_returns_a_token_and_the_user_without_the_password_hash(client, make_user):
    make_user("ann")
    response = client.post(LOGIN, json={"username": "ann", "password": "password-1"})
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert set(body["user"]) == {"id", "username", "email", "role", "is_active", "is_staff",
                                 "is_superuser", "date_joined", "last_login", "version"}
    assert body["user"]["last_login"] is not None
    assert "argon2" not in response.get_data(as_text=True)


def test_token_claims_carry_expiry_issue_time_id_issuer_and_audience(client, make_user, login):
    make_user("ann")
    claims = jwt.decode(login("ann"), options={"verify_signature": False})
    assert {"exp", "iat", "jti", "iss", "aud", "sub"} <= set(claims)
    assert claims["exp"] > claims["iat"]


def test_login_username_is_case_insensitive(client, make_user):
    make_user("Ann")
    assert client.post(LOGIN, json={"username": "aNN", "password": "password-1"}).status_code == 200


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_verify_accepts_both_token_schemes(client, make_user, login, scheme):
    make_user("ann")
    response = client.get("/api/auth/verify/", headers=bearer(login("ann"), scheme))
    assert response.status_code == 200 and response.json["username"] == "ann"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    make_user("ann")
    wrong = client.post(LOGIN, json={"username": "ann", "password": "nope-nope"})
    unknown = client.post(LOGIN, json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json
    assert wrong.mimetype == "application/problem+json"


def test_inactive_user_cannot_log_in(client, make_user, admin_token):
    user_id = make_user("ann")
    assert client.delete(f"/api/auth/users/{user_id}/", headers=bearer(admin_token)).status_code == 204
    response = client.post(LOGIN, json={"username": "ann", "password": "password-1"})
    assert response.status_code == 401


def forge(claims_override=None, key=None, algorithm="EdDSA"):
    """Claims for user 1 as admin, signed (by default) with users_svc's own current key."""
    now = int(time.time())
    claims = {"iss": "taskwire", "aud": "taskwire", "sub": "1", "username": "root", "role": "admin",
              "tv": 0, "jti": "forged", "iat": now, "exp": now + 600}
    claims.update(claims_override or {})
    ours = KeyRing(it_key_dir()).signing_key
    return jwt.encode(claims, key or ours.private_key, algorithm=algorithm, headers={"kid": ours.kid})


@pytest.mark.parametrize("token_of", [
    pytest.param(lambda good: forge({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}),
                 id="expired"),
    pytest.param(lambda good: good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
                 id="tampered-signature"),
    pytest.param(lambda good: forge(key=Ed25519PrivateKey.generate()), id="other-key"),
    pytest.param(lambda good: forge(key="a-shared-secret-that-is-long-enough-32", algorithm="HS256"), id="hs256"),
    pytest.param(lambda good: jwt.encode({"sub": "1", "role": "admin"}, None, algorithm="none"),
                 id="alg-none"),
    pytest.param(lambda good: forge({"aud": "elsewhere"}), id="wrong-audience"),
    pytest.param(lambda good: forge({"iss": "elsewhere"}), id="wrong-issuer"),
    pytest.param(lambda good: "garbage", id="garbage"),
])
def test_untrustworthy_tokens_are_refused(client, make_user, login, token_of):
    make_user("root", role="admin")
    response = client.get("/api/auth/verify/", headers=bearer(token_of(login("root"))))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_credentials_are_a_401(client):
    assert client.get("/api/auth/me/").status_code == 401
    assert client.get("/api/auth/me/", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_logout_revokes_that_token_only(client, make_user, login):
    make_user("ann")
    first, second = login("ann"), login("ann")
    assert client.post("/api/auth/logout/", headers=bearer(first)).status_code == 200
    assert client.get("/api/auth/verify/", headers=bearer(first)).status_code == 401
    assert client.get("/api/auth/me/", headers=bearer(first, "Token")).status_code == 401
    assert client.post("/api/auth/logout/", headers=bearer(first)).status_code == 401
    assert client.get("/api/auth/me/", headers=bearer(second)).status_code == 200


def test_logout_records_a_revocation_event(client, make_user, login, outbox_types):
    make_user("ann")
    client.post("/api/auth/logout/", headers=bearer(login("ann")))
    assert outbox_types() == ["user.created", "auth.token_revoked"]


def test_me_is_the_signed_in_user(client, make_user, login):
    make_user("ann")
    make_user("bob")
    assert client.get("/api/auth/me/", headers=bearer(login("bob"))).json["username"] == "bob"


def test_register_signs_up_a_user_and_answers_like_login(client, outbox_types):
    response = client.post("/api/auth/register/",
                           json={"username": "newbie", "email": "new@example.com", "password": "long-enough"})
    assert response.status_code == 201
    assert response.json["user"]["role"] == "user" and response.json["token"]
    assert client.get("/api/auth/me/", headers=bearer(response.json["token"])).status_code == 200
    assert outbox_types() == ["user.created"]


@pytest.mark.parametrize("field,value", [("username", "ANN"), ("email", "ANN@example.com")])
def test_register_duplicate_username_or_email_is_a_409_naming_the_field(client, make_user, field, value):
    make_user("ann")
    body = {"username": "other", "email": "other@example.com", "password": "long-enough", field: value}
    response = client.post("/api/auth/register/", json=body)
    assert response.status_code == 409
    assert list(response.json["errors"]) == [field]


@pytest.mark.parametrize("field,value", [
    ("username", ""), ("username", "has space"), ("username", "x" * 151),
    ("email", "not-an-email"), ("password", "short"), ("password", 12345678),
])
def test_register_invalid_field_is_a_400_naming_it(client, field, value):
    body = {"username": "newbie", "email": "new@example.com", "password": "long-enough", field: value}
    response = client.post("/api/auth/register/", json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert field in response.json["detail"]


def test_register_cannot_choose_a_role(client):
    body = {"username": "sneaky", "email": "s@example.com", "password": "long-enough", "role": "admin"}
    response = client.post("/api/auth/register/", json=body)
    assert response.status_code == 400 and "role" in response.json["errors"]


def test_register_can_be_switched_off(it_env, monkeypatch):
    from users_svc.app import create_app

    monkeypatch.setenv("REGISTRATION_OPEN", "false")
    closed = create_app().test_client()
    body = {"username": "newbie", "email": "new@example.com", "password": "long-enough"}
    response = closed.post("/api/auth/register/", json=body)
    assert response.status_code == 403


def test_malformed_json_is_a_400(client):
    response = client.post(LOGIN, data='{"username": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json["detail"] == "Invalid JSON body."


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    response = client.post(LOGIN, data="[" * 50_000 + "]" * 50_000, content_type="application/json")
    assert response.status_code == 400


def test_wrong_content_type_is_a_415(client):
    response = client.post(LOGIN, data="username=ann&password=x",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_oversized_body_is_a_413(client):
    response = client.post(LOGIN, data='{"username": "' + "a" * (1024 * 1024) + '"}',
                           content_type="application/json")
    assert response.status_code == 413


def test_unknown_fields_are_refused(client):
    response = client.post(LOGIN, json={"username": "ann", "password": "x", "remember": True})
    assert response.status_code == 400 and "remember" in response.json["errors"]


def test_wrong_method_is_a_405_with_allow(client):
    response = client.get(LOGIN)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_unknown_path_is_a_json_404(client):
    response = client.get("/api/auth/nothing-here/")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made and " " not in made


@pytest.mark.parametrize("text", ["ad\x00min", "\ud800", "\udfff-alone"])
def test_text_that_cannot_be_stored_is_a_400_naming_the_field(client, text):
    response = client.post(LOGIN, data='{"username": %s, "password": "x"}' % json.dumps(text),
                           content_type="application/json")
    assert response.status_code == 400 and "username" in response.json["errors"]


def test_nul_in_a_query_parameter_is_a_400_naming_it(client, admin_token):
    response = client.get("/api/auth/users/?q=%00", headers=bearer(admin_token))
    assert response.status_code == 400 and "q" in response.json["errors"]


def test_a_token_in_the_query_string_never_reaches_the_log(client, caplog):
    with caplog.at_level("INFO"):
        client.get("/api/auth/me/?token=secret.jwt.value&x=1")
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "/api/auth/me/?token=%2A%2A%2A&x=1" in logged and "secret.jwt.value" not in logged


def test_a_username_with_a_trailing_newline_is_refused(client):
    body = {"username": "ann\n", "email": "ann@example.com", "password": "long-enough"}
    response = client.post("/api/auth/register/", json=body)
    assert response.status_code == 400 and "username" in response.json["errors"]


@pytest.mark.parametrize("email, accepted", [
    ("ann+tag@mail.example.org", True), ("o'neil@example.co", True),
    ("ann@localhost", False), ("ann@example.com\n", False), ("ann@-example.com", False),
    ("ännä@example.com", False), ("ann@@example.com", False),
])
def test_register_accepts_exactly_the_emails_its_documented_pattern_allows(client, email, accepted):
    import re

    pattern = client.get("/api/auth/openapi.json").json["components"]["schemas"]["Register"]["properties"][
        "email"]["pattern"]
    response = client.post("/api/auth/register/", json={"username": "newbie", "email": email,
                                                        "password": "long-enough"})
    assert (response.status_code == 201) is accepted
    assert bool(re.search(pattern, email) and "\n" not in email) is accepted
    if not accepted:
        assert response.status_code == 400 and list(response.json["errors"]) == ["email"]


def test_internal_endpoints_are_served_but_not_in_the_public_openapi_document(client):
    paths = client.get("/api/auth/openapi.json").json["paths"]
    assert not [path for path in paths if path.startswith("/internal/")]
    assert client.get("/internal/users/", headers={HEADER: DEV_INTERNAL_API_KEY}).status_code == 200
