"""users_svc on a real PostgreSQL: Idempotency-Key on register and user creation, versions and If-Match on users."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from taskwire_common.db import db
from tests.support import bearer, wait_for

REGISTER = "/api/auth/register/"
USERS = "/api/auth/users/"
ANN = {"username": "ann", "email": "ann@example.com", "password": "long-enough"}


def count(users_app, table):
    with users_app.app_context():
        return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_retried_registration_answers_the_same_user_with_a_new_working_token(client, users_app, outbox_types):
    first = client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-1"})
    retry = client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-1"})
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json["user"] == first.json["user"]
    assert retry.json["token"] != first.json["token"]  # tokens are never stored: a replay signs a new one
    assert client.get("/api/auth/me/", headers=bearer(retry.json["token"])).json["username"] == "ann"
    assert count(users_app, "users") == 1 and outbox_types() == ["user.created"]


def test_a_retried_registration_with_another_password_is_a_422(client, users_app):
    client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-2"})
    other = client.post(REGISTER, json={**ANN, "password": "another-one"}, headers={"Idempotency-Key": "sign-up-2"})
    assert other.status_code == 422 and "token" not in other.json
    assert count(users_app, "users") == 1


def test_replaying_a_registration_with_guessed_passwords_is_throttled_like_logging_in(client):
    """A replay signs a token, so guessing its password must cost what guessing at login costs."""
    client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-5"})
    guesses = [client.post(REGISTER, json={**ANN, "password": f"guess-{n}-long"},
                           headers={"Idempotency-Key": "sign-up-5"}) for n in range(4)]
    assert [guess.status_code for guess in guesses] == [422, 422, 422, 429]  # LOGIN_MAX_FAILURES is 3 here
    assert int(guesses[-1].headers["Retry-After"]) > 0
    assert client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-5"}).status_code == 429
    assert client.post("/api/auth/login/", json={"username": "ann", "password": ANN["password"]}).status_code == 429


def test_the_stored_key_holds_neither_the_password_nor_a_token(client, users_app):
    first = client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-3"})
    with users_app.app_context():
        [row] = db.session.execute(text("SELECT fingerprint, body, headers::text FROM idempotency_keys")).all()
    stored = " ".join(row)
    assert ANN["password"] not in stored and first.json["token"] not in stored


def test_an_admins_retried_user_creation_answers_the_first_answer(client, users_app, admin_token):
    body = {**ANN, "role": "admin"}
    headers = {**bearer(admin_token), "Idempotency-Key": "new-user-1"}
    first = client.post(USERS, json=body, headers=headers)
    retry = client.post(USERS, json=body, headers=headers)
    assert first.status_code == retry.status_code == 201 and retry.data == first.data
    assert retry.headers["Location"] == f"/api/auth/users/{first.json['id']}/" and retry.headers["ETag"] == '"1"'
    assert client.post(USERS, json={**body, "password": "not-the-same"}, headers=headers).status_code == 422
    assert count(users_app, "users") == 2  # the admin and ann


def test_a_registration_refused_as_a_duplicate_keeps_no_key(client, make_user):
    make_user("ann")
    assert client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "sign-up-4"}).status_code == 409
    renamed = client.post(REGISTER, json={**ANN, "username": "ann2", "email": "ann2@example.com"},
                          headers={"Idempotency-Key": "sign-up-4"})
    assert renamed.status_code == 201 and "Idempotent-Replayed" not in renamed.headers


def test_the_outbox_publisher_purges_expired_keys_and_keeps_live_ones(client, users_app, run_publisher):
    from taskwire_common.idempotency_store import PURGE_EXPIRED_KEYS

    users_app.config["TASKWIRE_CLOCK"] = lambda: datetime.now(timezone.utc) - timedelta(hours=25)
    try:
        client.post(REGISTER, json=ANN, headers={"Idempotency-Key": "old"})
    finally:
        del users_app.config["TASKWIRE_CLOCK"]
    client.post(REGISTER, json={**ANN, "username": "bob", "email": "bob@example.com"},
                headers={"Idempotency-Key": "fresh"})
    run_publisher(cleanup_seconds=0.1, housekeeping=[PURGE_EXPIRED_KEYS])

    def keys():
        with users_app.app_context():
            return [row[0] for row in db.session.execute(text("SELECT key FROM idempotency_keys"))]
    wait_for(lambda: keys() == ["fresh"], message="the expired key purged, the live one kept")


@pytest.fixture
def ann(make_user):
    return make_user("ann")


def test_a_user_carries_a_version_as_etag_and_if_none_match_with_it_is_a_304(client, admin_token, ann):
    response = client.get(f"{USERS}{ann}/", headers=bearer(admin_token))
    assert response.json["version"] == 1 and response.headers["ETag"] == '"1"'
    assert client.get(f"{USERS}{ann}/", headers={**bearer(admin_token), "If-None-Match": '"1"'}).status_code == 304


@pytest.mark.parametrize("method,path,body", [("patch", "", {"email": "new@example.com"}),
                                              ("put", "role/", {"role": "admin"}), ("delete", "", None)])
def test_a_stale_if_match_on_a_user_is_a_412_and_changes_nothing(client, admin_token, ann, outbox_types,
                                                                 method, path, body):
    before = client.get(f"{USERS}{ann}/", headers=bearer(admin_token)).json
    events = outbox_types()
    response = getattr(client, method)(f"{USERS}{ann}/{path}", json=body,
                                       headers={**bearer(admin_token), "If-Match": '"7"'})
    assert response.status_code == 412 and response.json["current"] == before
    assert client.get(f"{USERS}{ann}/", headers=bearer(admin_token)).json == before
    assert outbox_types() == events


def test_a_matching_if_match_changes_the_user_and_answers_the_new_etag(client, users_app, admin_token, ann):
    response = client.patch(f"{USERS}{ann}/", json={"email": "new@example.com"},
                            headers={**bearer(admin_token), "If-Match": '"1"'})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"' and response.json["version"] == 2
    role = client.put(f"{USERS}{ann}/role/", json={"role": "admin"}, headers={**bearer(admin_token), "If-Match": '"2"'})
    assert role.status_code == 200 and role.headers["ETag"] == '"3"'
    with users_app.app_context():
        payloads = [row[0] for row in db.session.execute(text(
            "SELECT payload FROM outbox_events WHERE routing_key = 'user.updated' ORDER BY id"))]
    assert [(p["data"]["version"], p["data"]["user"]["version"]) for p in payloads] == [(2, 2), (3, 3)]
