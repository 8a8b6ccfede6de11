"""The WebSocket endpoints: authenticate at the handshake, close within a second once the token dies."""
from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, request
from flask_sock import Sock

from taskwire_common.auth import Authenticator, InvalidToken, Principal, token_from_authorization

log = logging.getLogger(__name__)

UNAUTHORIZED = 4401  # the HTTP 401 of WebSocket close codes, as clients of the old system expect
CHECK_SECONDS = 0.5  # how soon a revoked or expired token closes its socket

sock = Sock()
bp = Blueprint("sockets", __name__)


def token_of_handshake() -> str | None:
    return request.args.get("token") or token_from_authorization(request.headers.get("Authorization"))


def authenticate_handshake() -> Principal | None:
    token = token_of_handshake()
    if not token:
        return None
    authenticator: Authenticator = current_app.extensions["taskwire.auth"]
    try:
        return authenticator.authenticate(token)
    except InvalidToken as exc:
        log.info("WebSocket handshake refused: %s", exc)
        return None


def still_valid(principal: Principal) -> bool:
    authenticator: Authenticator = current_app.extensions["taskwire.auth"]
    return principal.expires_at > time.time() and not authenticator.is_revoked(principal)


def serve(ws) -> None:
    """Hold the socket open for an authenticated client; events are pushed by the relay (not built yet)."""
    principal = authenticate_handshake()
    if principal is None:
        ws.close(reason=UNAUTHORIZED, message="Unauthorized")
        return
    log.info("WebSocket %s opened for user %s", request.path, principal.user_id)
    while ws.connected:
        ws.receive(timeout=CHECK_SECONDS)  # clients send nothing we act on yet
        if not still_valid(principal):
            log.info("closing WebSocket of user %s: token expired or revoked", principal.user_id)
            ws.close(reason=UNAUTHORIZED, message="Token expired or revoked")
            return


@sock.route("/ws/tasks/", bp=bp)
def task_feed(ws):
    serve(ws)


@sock.route("/ws/notifications/", bp=bp)
def notification_feed(ws):
    serve(ws)
