"""The WebSocket handshake's checks: the browser origin, and the credential — a single-use ticket (`?ticket=`,
redeemed at users_svc) or a token (`?token=` or the Authorization header)."""
from __future__ import annotations

import logging

import requests
from flask import current_app, request

from taskwire_common.auth import Authenticator, InvalidToken, Principal, token_from_authorization
from taskwire_common.internal import InternalClient
from taskwire_common.jwks import KeysUnavailable

log = logging.getLogger(__name__)


def origin_allowed(settings) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or "*" in settings.allowed_origins or origin.rstrip("/") in settings.allowed_origins


REDEEM_PATH = "/internal/ws-tickets/redeem/"


class CannotAuthenticate(Exception):
    """users_svc (a ticket) or the token keys cannot be reached: the client should try again shortly."""


def authenticate_handshake() -> Principal | None:
    """The principal of the handshake's ticket (`?ticket=`), or of its token (`?token=` or the Authorization
    header); None if it has neither or they are not good. Raises CannotAuthenticate."""
    authenticator: Authenticator = current_app.extensions["taskwire.auth"]
    ticket = request.args.get("ticket")
    token = request.args.get("token") or token_from_authorization(request.headers.get("Authorization"))
    try:
        if ticket:
            principal = redeem_ticket(ticket)
            return authenticator.admit(principal) if principal else None
        return authenticator.authenticate(token) if token else None
    except InvalidToken as exc:
        log.info("WebSocket handshake refused: %s", exc)
        return None
    except KeysUnavailable as exc:
        raise CannotAuthenticate(str(exc)) from None


def redeem_ticket(ticket: str) -> Principal | None:
    """The principal a ticket stands for, from users_svc, which lets each ticket be redeemed once."""
    if len(ticket) > 128:
        return None
    users: InternalClient = current_app.extensions["ws_relay.users"]
    try:
        response = users.post(REDEEM_PATH, json={"ticket": ticket}, timeout=5)
        if response.status_code in (400, 404):
            log.info("WebSocket handshake refused: the ticket is unknown, used or expired")
            return None
        response.raise_for_status()
        return Principal.from_json(response.json())
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        raise CannotAuthenticate(f"a ticket could not be redeemed at users_svc: {error}") from None
