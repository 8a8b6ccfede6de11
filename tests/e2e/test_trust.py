"""Trust, through the gateway and at the services' own ports: only users_svc mints tokens, every service knows
which users are real and active, nothing internal answers without the internal key, and a WebSocket opens with a
single-use ticket. (Forged and HS256 tokens: test_attacks.py; edge errors and logs: test_edge_errors.py.)"""
import jwt
import pytest
import requests

from taskwire_common.internal import HEADER
from taskwire_common.settings import DEV_INTERNAL_API_KEY
from tests.e2e.support import PROFILE, STACK
from tests.support import bearer, wait_for
from users_svc import signing_keys

PROTECTED = ["/api/auth/me/", "/api/tasks/", "/api/notifications/"]


def service_url(name: str) -> str:
    return f"http://127.0.0.1:{PROFILE.process(name).port}"


def close_of(feed, timeout=10):
    wait_for(lambda: feed.closed, timeout=timeout, message="the socket closed")
    return feed.close_code


def refused_at_handshake(feed) -> bool:
    """Whether the relay closed the socket with 4401 before any message (else the socket is closed here)."""
    wait_for(lambda: feed.closed or feed.messages, timeout=10, message="the handshake's outcome")
    if feed.messages:
        feed.close()
        return False
    return feed.close_code == 4401


def ticket_for(gateway, token) -> str:
    response = requests.post(f"{gateway}/api/auth/ws-ticket/", headers=bearer(token), timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 30
    return response.json()["ticket"]


def test_the_gateway_publishes_the_public_keys_every_token_names(gateway, user):
    response = requests.get(f"{gateway}/api/auth/.well-known/jwks.json", timeout=5)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert jwt.get_unverified_header(user.token)["kid"] in {key["kid"] for key in keys}
    assert all(set(key) == {"kty", "crv", "x", "kid", "alg", "use"} for key in keys), "public halves only"


def test_a_new_user_is_served_at_once_by_every_service(gateway, register):
    """Sign up, then straight to every service: a service that has not yet heard of the user asks users_svc."""
    fresh = register()
    for path in PROTECTED:
        assert requests.get(gateway + path, headers=bearer(fresh.token), timeout=5).status_code == 200, path


def test_a_deactivated_users_token_is_refused_everywhere(gateway, admin_session, register):
    gone = register()
    assert requests.get(f"{gateway}/api/tasks/", headers=bearer(gone.token), timeout=5).status_code == 200
    assert admin_session.delete(f"{gateway}/api/auth/users/{gone.id}/", timeout=5).status_code == 204
    for path in PROTECTED:
        wait_for(lambda path=path: requests.get(gateway + path, headers=bearer(gone.token), timeout=5)
                 .status_code == 401, timeout=5, message=f"{path} refusing the deactivated user")


@pytest.mark.parametrize("path", ["/internal/users/", "/internal/revocations/", "/internal/users/1/"])
def test_internal_endpoints_answer_only_with_the_internal_key_and_never_through_the_gateway(gateway, path):
    users = service_url("users_svc")
    for headers in ({}, {HEADER: "guess"}, {HEADER: ""}, {"Authorization": "Bearer x"}):
        response = requests.get(users + path, headers=headers, timeout=5)
        assert response.status_code == 401 and response.headers["Content-Type"].startswith("application/problem")
    key = STACK.process_env("users_svc").get("INTERNAL_API_KEY", DEV_INTERNAL_API_KEY)  # the profile's, if set
    assert requests.get(users + path, headers={HEADER: key}, timeout=5).status_code == 200
    assert requests.get(gateway + path, headers={HEADER: key}, timeout=5).status_code == 404
    redeem = requests.post(users + "/internal/ws-tickets/redeem/", json={"ticket": "x"}, timeout=5)
    assert redeem.status_code == 401


def test_a_ticket_opens_one_socket_once(gateway, user, open_feed, assign_to):
    ticket = ticket_for(gateway, user.token)
    feed = open_feed(None, ticket=ticket)
    wait_for(lambda: feed.messages, timeout=10, message="the hello")
    assert feed.messages[0]["type"] == "hello" and feed.messages[0]["user"] == user.id
    task = assign_to(user, title="seen through a ticket")
    wait_for(lambda: any(m.get("task", {}).get("id") == task["id"] for m in feed.messages), timeout=10,
             message="the task event")
    replayed = open_feed(None, ticket=ticket)
    assert close_of(replayed) == 4401 and not replayed.messages


@pytest.mark.parametrize("ticket", ["", "x", "not-a-ticket-" * 5, "a" * 500])
def test_a_made_up_ticket_is_refused_like_a_bad_token(gateway, open_feed, ticket):
    feed = open_feed(None, ticket=ticket)
    assert close_of(feed) == 4401 and not feed.messages


def test_a_ticket_needs_a_signed_in_caller(gateway):
    response = requests.post(f"{gateway}/api/auth/ws-ticket/", timeout=5)
    assert response.status_code == 401 and response.headers["Content-Type"].startswith("application/problem")


def test_a_socket_opened_with_a_ticket_closes_when_its_token_is_revoked(gateway, user, open_feed):
    feed = open_feed(None, ticket=ticket_for(gateway, user.token))
    wait_for(lambda: feed.messages, timeout=10, message="the hello")
    assert requests.post(f"{gateway}/api/auth/logout/", headers=bearer(user.token), timeout=5).status_code == 200
    assert close_of(feed) == 4401


def test_the_old_ways_to_open_a_socket_still_work(gateway, user, open_feed):
    by_query = open_feed(user.token)
    by_header = open_feed(None, header=[f"Authorization: Token {user.token}"])
    for feed in (by_query, by_header):
        wait_for(lambda feed=feed: feed.messages, timeout=10, message="the hello")
        assert feed.messages[0]["type"] == "hello"


def test_rotation_new_tokens_use_the_new_key_old_ones_verify_until_the_old_key_is_removed(gateway, register,
                                                                                          open_feed):
    """Every service learns the new key on the first token that names it, and drops a removed one within
    JWKS_REFRESH_SECONDS (short in the test profile)."""
    directory = PROFILE.signing_key_dir
    before = register()
    old_kid = jwt.get_unverified_header(before.token)["kid"]
    new_key = signing_keys.add_key(directory)
    after = register()
    assert jwt.get_unverified_header(after.token)["kid"] == new_key.kid
    for token in (before.token, after.token):
        for path in PROTECTED:
            assert requests.get(gateway + path, headers=bearer(token), timeout=5).status_code == 200, path
    for old in [key.kid for key in signing_keys.read_keys(directory)][:-1]:
        signing_keys.remove_key(directory, old)
    refresh = float(STACK.process_env("tasks_svc").get("JWKS_REFRESH_SECONDS", "300"))
    for path in PROTECTED:
        wait_for(lambda path=path: requests.get(gateway + path, headers=bearer(before.token), timeout=5)
                 .status_code == 401, timeout=refresh + 5, message=f"{path} dropping the retired key {old_kid}")
        assert requests.get(gateway + path, headers=bearer(after.token), timeout=5).status_code == 200
    wait_for(lambda: refused_at_handshake(open_feed(before.token)), timeout=refresh + 5,
             message="the relay refusing a token of the retired key")


def test_no_log_line_holds_a_token_or_ticket_of_this_run(gateway, register, open_feed):
    """Every kind of socket end, with ?token= and with ?ticket=: the client closing, the client vanishing, the
    relay refusing an oversized message (1009), a used ticket, a bad token. Then every log of the stack is read."""
    access_log = PROFILE.log_dir / "nginx-access.log"
    logged_sockets = lambda: access_log.read_text().count("/ws/tasks/")  # noqa: E731
    before = logged_sockets()
    person = register()
    secrets = [person.token]
    feeds = [open_feed(person.token)]
    for _ in range(3):
        secrets.append(ticket_for(gateway, person.token))
        feeds.append(open_feed(None, ticket=secrets[-1]))
    for feed in feeds:
        wait_for(lambda feed=feed: feed.messages, timeout=10, message="the hello")
    feeds[0].close()  # a client close
    feeds[1].ws.sock.close()  # the client vanishes without a close frame
    feeds[2].ws.send("x" * (70 * 1024))  # over the relay's 64 KiB: it closes with 1009
    assert close_of(feeds[2]) == 1009
    assert close_of(open_feed(None, ticket=secrets[1])) == 4401  # a used ticket
    bad = person.token[:-6] + ("AAAAAA" if not person.token.endswith("AAAAAA") else "BBBBBB")
    secrets.append(bad)
    assert close_of(open_feed(bad)) == 4401
    feeds[3].close()
    # nginx writes a socket's access line when it ends: six sockets, six lines.
    wait_for(lambda: logged_sockets() >= before + 6, timeout=10, message="the sockets' access log lines")
    leaked = [(log.name, secrets.index(secret)) for log in PROFILE.log_dir.glob("*.log")
              for secret in secrets if secret in log.read_text(errors="replace")]
    assert leaked == []
