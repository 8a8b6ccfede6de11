"""A token revoked in users_svc stops working in every service and WebSocket within one second."""
import json

import pytest
import requests
import websocket

from harness.ws import ws_url
from tests.support import bearer, wait_for

WS_UNAUTHORIZED = 4401
PROTECTED = {
    "users": ("/api/auth/verify/", 200),
    "tasks": ("/api/tasks/", 200),
    "notifications": ("/api/notifications/", 200),
}


def status_of(gateway, path, token):
    return requests.get(gateway + path, headers=bearer(token), timeout=5).status_code


def close_code(ws, timeout=5.0):
    """Read until the server's close frame and return its code."""
    ws.settimeout(timeout)
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


@pytest.mark.parametrize("service", sorted(PROTECTED))
def test_every_service_refuses_a_token_within_a_second_of_logout(gateway, user, service):
    path, accepted = PROTECTED[service]
    assert status_of(gateway, path, user.token) == accepted
    assert requests.post(f"{gateway}/api/auth/logout/", headers=bearer(user.token), timeout=5).status_code == 200
    wait_for(lambda: status_of(gateway, path, user.token) == 401, timeout=1.0,
             message=f"{service} to refuse the revoked token")


@pytest.mark.parametrize("service", sorted(PROTECTED))
def test_every_service_refuses_a_missing_or_forged_token(gateway, service):
    path, _ = PROTECTED[service]
    assert requests.get(gateway + path, timeout=5).status_code == 401
    assert status_of(gateway, path, "forged.token.value") == 401


def test_deactivating_a_user_revokes_their_tokens_everywhere(gateway, admin_session, user):
    assert admin_session.delete(f"{gateway}/api/auth/users/{user.id}/", timeout=5).status_code == 204
    for service, (path, _) in PROTECTED.items():
        wait_for(lambda path=path: status_of(gateway, path, user.token) == 401, timeout=1.0,
                 message=f"{service} to refuse a deactivated user's token")


@pytest.mark.parametrize("path", ["/ws/tasks/", "/ws/notifications/"])
@pytest.mark.parametrize("token", [None, "forged.token.value"])
def test_websocket_without_a_valid_token_is_closed_with_4401(gateway, path, token):
    ws = websocket.create_connection(ws_url(gateway, path, token), timeout=5)
    try:
        assert close_code(ws) == WS_UNAUTHORIZED
    finally:
        ws.close()


def test_websocket_accepts_the_authorization_header(gateway, user):
    ws = websocket.create_connection(ws_url(gateway), header=[f"Authorization: Token {user.token}"], timeout=5)
    try:
        hello = json.loads(ws.recv())
        assert hello["type"] == "hello" and hello["user"] == user.id
        ws.settimeout(0.5)
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv()  # open and quiet: nothing more sent, not closed
    finally:
        ws.close()


def test_logout_closes_an_open_websocket_within_a_second(gateway, user):
    ws = websocket.create_connection(ws_url(gateway, token=user.token), timeout=5)
    try:
        requests.post(f"{gateway}/api/auth/logout/", headers=bearer(user.token), timeout=5)
        assert close_code(ws, timeout=1.0) == WS_UNAUTHORIZED
    finally:
        ws.close()
    refused = websocket.create_connection(ws_url(gateway, token=user.token), timeout=5)
    try:
        assert close_code(refused) == WS_UNAUTHORIZED
    finally:
        refused.close()
