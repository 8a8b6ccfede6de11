"""users_svc's side of trust: EdDSA tokens and their JWKS, key rotation, the internal key, WebSocket tickets."""
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from taskwire_common.auth import TokenVerifier
from taskwire_common.internal import HEADER
from taskwire_common.jwks import parse_jwks
from taskwire_common.settings import DEV_INTERNAL_API_KEY
from tests.support import bearer
from users_svc import signing_keys, tickets
from users_svc.signing_keys import KeyRing

INTERNAL = {HEADER: DEV_INTERNAL_API_KEY}  # the integration tests' services run with the development key


@pytest.fixture
def ann(make_user, login):
    make_user("ann")
    return login("ann")


@pytest.fixture
def key_dir(users_app, tmp_path, monkeypatch):
    """users_svc signing with a key directory of the test's own (a copy of the shared test key to start)."""
    ring: KeyRing = users_app.extensions["users_svc.keys"]
    for path in ring.directory.glob("*.pem"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(ring, "directory", tmp_path)
    monkeypatch.setattr(ring, "_seen", None)
    yield tmp_path
    monkeypatch.undo()
    ring._seen = None


def test_tokens_are_eddsa_with_a_kid_the_jwks_publishes(client, ann):
    header = jwt.get_unverified_header(ann)
    assert header["alg"] == "EdDSA"
    response = client.get("/api/auth/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json["keys"]
    assert header["kid"] in {key["kid"] for key in keys}
    assert all(key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA" for key in keys)
    assert not any("d" in key for key in keys), "the JWKS holds public keys only"
    public = parse_jwks(response.json)[header["kid"]]
    assert jwt.decode(ann, public, algorithms=["EdDSA"], audience="taskwire")["username"] == "ann"


def test_rotation_signs_new_tokens_with_the_new_key_and_old_tokens_verify_until_their_key_is_removed(
        users_app, client, make_user, login, key_dir):
    make_user("ann")
    old_token = login("ann")
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_key = signing_keys.add_key(key_dir)
    new_token = login("ann")
    assert jwt.get_unverified_header(new_token)["kid"] == new_key.kid
    assert {key["kid"] for key in client.get("/api/auth/.well-known/jwks.json").json["keys"]} == {old_kid, new_key.kid}
    assert client.get("/api/auth/me/", headers=bearer(old_token)).status_code == 200
    assert client.get("/api/auth/me/", headers=bearer(new_token)).status_code == 200

    with pytest.raises(signing_keys.NoSigningKey, match="signs new tokens"):
        signing_keys.remove_key(key_dir, new_key.kid)
    signing_keys.remove_key(key_dir, old_kid)
    assert client.get("/api/auth/me/", headers=bearer(old_token)).status_code == 401
    assert client.get("/api/auth/me/", headers=bearer(new_token)).status_code == 200
    assert [key["kid"] for key in client.get("/api/auth/.well-known/jwks.json").json["keys"]] == [new_key.kid]


def test_the_key_cli_rotates_lists_and_removes(tmp_path, capsys):
    assert signing_keys.main(["--dir", str(tmp_path), "rotate"]) == 0
    assert signing_keys.main(["--dir", str(tmp_path), "rotate"]) == 0
    first, second = [key.kid for key in signing_keys.read_keys(tmp_path)]
    assert all((tmp_path / f"{kid}.pem").stat().st_mode & 0o777 == 0o600 for kid in (first, second))
    capsys.readouterr()
    assert signing_keys.main(["--dir", str(tmp_path), "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [first, second] and listed[1].endswith("(signs)")
    assert signing_keys.main(["--dir", str(tmp_path), "remove", second]) == 1  # the signing key stays
    assert signing_keys.main(["--dir", str(tmp_path), "remove", first]) == 0
    assert [key.kid for key in signing_keys.read_keys(tmp_path)] == [second]


@pytest.mark.parametrize("path", ["/internal/users/", "/internal/revocations/", "/internal/users/1/"])
@pytest.mark.parametrize("shown", [None, "", "wrong-key", DEV_INTERNAL_API_KEY[:-1]])
def test_internal_endpoints_need_the_internal_key(client, make_user, path, shown):
    make_user("ann")
    headers = {} if shown is None else {HEADER: shown}
    response = client.get(path, headers=headers)
    assert response.status_code == 401 and response.is_json
    assert client.get(path, headers=INTERNAL).status_code == 200


def test_the_account_lookup_names_state_and_versions_and_404s_for_nobody(client, make_user):
    ann = make_user("ann")
    assert client.get(f"/internal/users/{ann}/", headers=INTERNAL).json == {
        "user_id": ann, "is_active": True, "version": 1, "token_version": 0}
    assert client.get("/internal/users/999999/", headers=INTERNAL).status_code == 404


def test_the_revocation_snapshot_lists_every_account(client, make_user, admin_token):
    ann = make_user("ann")
    client.delete(f"/api/auth/users/{ann}/", headers=bearer(admin_token))
    accounts = {a["user_id"]: a["is_active"] for a in client.get("/internal/revocations/", headers=INTERNAL).json[
        "accounts"]}
    assert accounts[ann] is False and True in accounts.values()


def test_a_ticket_is_for_a_signed_in_caller_and_redeems_once_as_its_token(client, ann):
    assert client.post("/api/auth/ws-ticket/").status_code == 401
    response = client.post("/api/auth/ws-ticket/", headers=bearer(ann))
    assert response.status_code == 200 and response.json["expires_in"] == 30
    ticket = response.json["ticket"]
    redeemed = client.post("/internal/ws-tickets/redeem/", json={"ticket": ticket}, headers=INTERNAL)
    assert redeemed.status_code == 200
    claims = jwt.decode(ann, options={"verify_signature": False})
    assert redeemed.json["jti"] == claims["jti"] and redeemed.json["username"] == "ann"
    assert redeemed.json["expires_at"] == claims["exp"]
    again = client.post("/internal/ws-tickets/redeem/", json={"ticket": ticket}, headers=INTERNAL)
    assert again.status_code == 404


def test_tickets_are_redeemed_only_by_services_and_only_unexpired(users_app, client, ann):
    ticket = client.post("/api/auth/ws-ticket/", headers=bearer(ann)).json["ticket"]
    assert client.post("/internal/ws-tickets/redeem/", json={"ticket": ticket}).status_code == 401
    assert client.post("/internal/ws-tickets/redeem/", json={"ticket": "x" * 200}, headers=INTERNAL).status_code == 400
    with users_app.app_context():
        later = datetime.now(timezone.utc) + timedelta(seconds=tickets.TICKET_SECONDS + 1)
        assert tickets.redeem_ticket(ticket, now=later) is None
        assert tickets.redeem_ticket(ticket) is not None  # the expired attempt did not use it up


def test_users_svc_verifies_with_its_own_keys_only(users_app):
    verifier: TokenVerifier = users_app.extensions["taskwire.auth"].verifier
    assert verifier.keys is users_app.extensions["users_svc.keys"]
