"""The WebSocket endpoints: check origin and token at the handshake, then send what the hub queues."""
from __future__ import annotations

import logging
import queue
import time

import gevent
from flask import Blueprint, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from wsproto.events import Ping
from wsproto.utilities import LocalProtocolError

from taskwire_common.auth import Authenticator, InvalidToken, Principal, token_from_authorization

from .hub import FORBIDDEN_ORIGIN, PING_TIMEOUT, TRY_AGAIN_LATER, UNAUTHORIZED, Connection, Hub

log = logging.getLogger(__name__)

IDLE_CHECK_SECONDS = 5.0  # how often an idle socket notices that its client went away
CLOSE_SECONDS = 5.0

sock = Sock()
bp = Blueprint("sockets", __name__)


def origin_allowed(settings) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or "*" in settings.allowed_origins or origin.rstrip("/") in settings.allowed_origins


def authenticate_handshake() -> Principal | None:
    token = request.args.get("token") or token_from_authorization(request.headers.get("Authorization"))
    if not token:
        return None
    authenticator: Authenticator = current_app.extensions["taskwire.auth"]
    try:
        return authenticator.authenticate(token)
    except InvalidToken as exc:
        log.info("WebSocket handshake refused: %s", exc)
        return None


def close(ws, code: int, reason: str) -> None:
    """Send the close frame if the client lets us within a few seconds; drop the connection either way."""
    with gevent.Timeout(CLOSE_SECONDS, False):
        try:
            ws.close(reason=code, message=reason)
        except (ConnectionClosed, LocalProtocolError, OSError):
            pass  # the client left or is closing already: nothing more to tell it


def serve(ws, wants_task_events: bool) -> None:
    settings = current_app.config["TASKWIRE_SETTINGS"]
    if not origin_allowed(settings):
        log.info("WebSocket from origin %r refused", request.headers.get("Origin"))
        return close(ws, FORBIDDEN_ORIGIN, "Origin not allowed")
    principal = authenticate_handshake()
    if principal is None:
        return close(ws, UNAUTHORIZED, "Unauthorized")
    hub: Hub = current_app.extensions["ws_relay.hub"]
    connection = Connection(principal, wants_task_events, settings.send_queue_size)
    hub.add(connection)
    # Checked after joining the hub: a feed lost from here on closes this socket with the others.
    if not current_app.extensions["ws_relay.feed"].connected:
        hub.remove(connection)
        log.info("WebSocket of user %s refused: the event feed is reconnecting", principal.user_id)
        return close(ws, TRY_AGAIN_LATER, "The event feed is reconnecting; try again shortly")
    log.info("WebSocket %s opened for user %s", request.path, principal.user_id)
    try:
        Sender(ws, connection, settings).run()
    finally:
        hub.remove(connection)
    if connection.close_code is not None and ws.connected:
        close(ws, connection.close_code, connection.close_reason)
    log.info("WebSocket of user %s closed (%s)", principal.user_id, connection.close_code or "by the client")


class Sender:
    """The one greenlet that writes to a socket: queued messages, and pings while it is idle.

    simple-websocket could ping from its reader thread, but two greenlets writing to one
    socket collide as soon as a slow client makes a write block; so pings are sent here.
    """

    def __init__(self, ws, connection: Connection, settings):
        self.ws, self.connection = ws, connection
        self.ping_interval = settings.ping_interval_seconds
        self.send_timeout = settings.send_timeout_seconds
        self.next_ping = time.monotonic() + self.ping_interval
        self.client_gone = False

    def run(self) -> None:
        connection = self.connection
        while self.ws.connected and not self.client_gone and connection.close_code is None:
            seconds_left = connection.principal.expires_at - time.time()
            if seconds_left <= 0:
                return connection.close(UNAUTHORIZED, "Token expired")
            wait = min(IDLE_CHECK_SECONDS, seconds_left, max(0.0, self.next_ping - time.monotonic()))
            try:
                message = connection.pending.get(timeout=wait)
            except queue.Empty:
                message = ""
            discard_incoming(self.ws)
            if message is None or connection.close_code is not None:
                return
            if message:
                self.write(lambda: self.ws.send(message))
            elif time.monotonic() >= self.next_ping:
                self.ping()

    def ping(self) -> None:
        if not self.ws.pong_received:
            return self.connection.close(PING_TIMEOUT, "No answer to ping")
        self.ws.pong_received = False
        self.write(lambda: self.ws.sock.send(self.ws.ws.send(Ping())))
        self.next_ping = time.monotonic() + self.ping_interval

    def write(self, send) -> None:
        """Send within the timeout, or close the socket of a client too slow to take it."""
        sent = False
        with gevent.Timeout(self.send_timeout, False):
            try:
                send()
            except (ConnectionClosed, LocalProtocolError, OSError):
                self.client_gone = True  # it closed while we were about to write
                return
            sent = True
        if not sent:
            self.connection.close(TRY_AGAIN_LATER, "Too slow: a message could not be sent in time")


def discard_incoming(ws) -> None:
    """Clients have nothing to tell the relay; what they send anyway is dropped, not kept."""
    while ws.connected and ws.receive(timeout=0) is not None:
        pass


@sock.route("/ws/tasks/", bp=bp)
def task_feed(ws):
    """Task events the user may see, and their own notifications."""
    serve(ws, wants_task_events=True)


@sock.route("/ws/notifications/", bp=bp)
def notification_feed(ws):
    """The user's own notifications only."""
    serve(ws, wants_task_events=False)
