"""The WebSocket endpoints: check origin and credential at the handshake (handshake.py), greet, replay what a
resuming client missed, then send what the hub queues."""
from __future__ import annotations

import logging
import time

import gevent
import pika.exceptions
from flask import Blueprint, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed, Server
from wsproto.utilities import LocalProtocolError

from taskwire_common.metrics import WS_MESSAGES_SENT, WS_REPLAYS, WS_SLOW_SOCKETS_DROPPED, WS_SOCKETS_REFUSED
from taskwire_common.socket_messages import hello_message, resync_message

from .config import RelaySettings
from .handshake import CannotAuthenticate, authenticate_handshake, origin_allowed
from .history import Cursor
from .hub import FORBIDDEN_ORIGIN, PING_TIMEOUT, TOO_MANY_SOCKETS, TRY_AGAIN_LATER, UNAUTHORIZED, Connection, Hub
from .replay import CursorGone, Replay
from .stream import StreamReader
from .wire import InlineReader, message_frame

log = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0
CURSOR_AHEAD_WAIT_SECONDS = 5.0
SEND_BATCH = 32  # messages per write to a socket: a replay, or a burst, costs one system call per batch

sock = Sock()
bp = Blueprint("sockets", __name__)


def quiet_timeout(seconds: float) -> gevent.Timeout:
    """A timeout that ends its `with` block without raising (gevent's documented `exception=False`)."""
    # types-gevent types `exception` as an exception class or instance only, leaving out the literal
    # False that gevent.Timeout documents and tests for (`self.exception is False` in gevent/timeout.py).
    return gevent.Timeout(seconds, False)  # type: ignore[arg-type]


def close(ws, code: int, reason: str) -> None:
    """Send the close frame if the client lets us within a few seconds; drop the connection either way."""
    with quiet_timeout(CLOSE_SECONDS):
        try:
            ws.close(reason=code, message=reason)
        except (ConnectionClosed, LocalProtocolError, OSError):
            pass  # the client left or is closing already: nothing more to tell it


def serve(ws, wants_task_events: bool) -> None:
    settings = current_app.config["TASKWIRE_SETTINGS"]
    if not origin_allowed(settings):
        log.info("WebSocket from origin %r refused", request.headers.get("Origin"))
        return close(ws, FORBIDDEN_ORIGIN, "Origin not allowed")
    try:
        principal = authenticate_handshake()
    except CannotAuthenticate as error:
        log.warning("WebSocket refused for now: %s", error)
        return close(ws, TRY_AGAIN_LATER, "Cannot check credentials now; try again shortly")
    if principal is None:
        return close(ws, UNAUTHORIZED, "Unauthorized")
    hub: Hub = current_app.extensions["ws_relay.hub"]
    connection = Connection(principal, wants_task_events, settings.send_queue_size)
    if not hub.add(connection):  # from here on a revocation closes it
        log.warning("WebSocket of user %s refused: the user holds %s sockets in this process already",
                    principal.user_id, hub.max_sockets_per_user)
        WS_SOCKETS_REFUSED.inc()
        return close(ws, TOO_MANY_SOCKETS, "Too many sockets for this user")
    replay = None
    try:
        replay = greet(hub, connection, request.args.get("since"), settings)
        if replay is None and not connection.live:
            log.info("WebSocket of user %s refused: the feed's history is being read", principal.user_id)
            return close(ws, TRY_AGAIN_LATER, "The event feed is starting; try again shortly")
        log.info("WebSocket %s opened for user %s%s", request.path, principal.user_id,
                 " (resuming)" if replay else "")
        SocketLoop(ws, connection, settings, replay, hub).run()
    finally:
        hub.remove(connection)
        if replay is not None:
            replay.close()
    if connection.close_code is not None and ws.connected:
        close(ws, connection.close_code, connection.close_reason)
    log.info("WebSocket of user %s closed (%s)", principal.user_id, connection.close_code or "by the client")


def read_up_to(hub: Hub, offset: int) -> None:
    """Give this process's reader a moment to read up to a cursor another relay process gave out, which may
    read the stream a little ahead of this one (a cursor that is still ahead after that is foreign)."""
    deadline = time.monotonic() + CURSOR_AHEAD_WAIT_SECONDS
    while (tail := hub.tail) is not None and tail.offset < offset and time.monotonic() < deadline:
        gevent.sleep(0.02)


def greet(hub: Hub, connection: Connection, since: str | None, settings: RelaySettings) -> Replay | None:
    """Queue the hello; then either the Replay that brings a resuming socket to the tail, or None with the
    socket live at the tail (and told `resync_required` if it sent a cursor this feed cannot serve).

    None with the socket not live: the hub is not ready yet (the feed's history is being read)."""
    user = connection.principal.user_id
    cursor = Cursor.parse(since)
    if cursor is not None and hub.ready:
        read_up_to(hub, cursor.offset)

        def open_reader(start: int, through: int) -> StreamReader:
            return StreamReader(settings.amqp_url, start, through)
        try:
            replay = Replay(hub, connection, cursor, open_reader, current_app.extensions["ws_relay.replay_readers"])
        except CursorGone as gone:
            log.info("user %s resumes from a cursor this feed cannot serve: %s", user, gone)
        else:
            connection.offer(message_frame(hello_message(str(cursor), user)))
            WS_REPLAYS.labels("stream" if replay.from_stream else "memory").inc()
            return replay
    elif cursor is None and since is not None:
        log.info("user %s resumes from a malformed cursor", user)

    def greeting(tail: Cursor) -> list[bytes]:
        frames = [message_frame(hello_message(str(tail), user))]
        if since is not None:
            frames.append(message_frame(resync_message(str(tail))))
            WS_REPLAYS.labels("resync_required").inc()
        return frames

    hub.join_at_tail(connection, greeting)
    return None


class SocketLoop:
    """The one greenlet of a socket: it sends queued messages, pings while idle, and reads what the client sends."""

    def __init__(self, ws: Server, connection: Connection, settings: RelaySettings, replay: Replay | None = None,
                 hub: Hub | None = None):
        self.ws, self.connection, self.replay, self.hub = ws, connection, replay, hub
        self.reader = InlineReader(ws)
        self.ping_interval = settings.ping_interval_seconds
        self.send_timeout = settings.send_timeout_seconds
        self.next_ping = time.monotonic() + self.ping_interval
        self.client_gone = False
        self.client_wrote = False
        self.readable = gevent.get_hub().loop.io(self.reader.fileno(), 1)  # a libev watcher: no greenlet

    def run(self) -> None:
        self.readable.start(self.on_readable)
        try:
            self.serve()
        finally:
            self.connection.write_now = None
            self.readable.close()

    def serve(self) -> None:
        connection = self.connection
        while self.open:
            seconds_left = connection.principal.expires_at - time.time()
            if seconds_left <= 0:
                return connection.close(UNAUTHORIZED, "Token expired")
            if self.replay is None:
                # Whatever else needs this greenlet wakes it: a message the fan-out could not write at once, a
                # close, the client writing or leaving. Meanwhile the fan-out writes for it (Connection.offer).
                connection.write_now = self.reader.send_now
                connection.wakeup.wait(min(seconds_left, max(0.0, self.next_ping - time.monotonic())))
                connection.write_now = None
                connection.wakeup.clear()
            else:
                gevent.sleep(0)  # replaying: let the other sockets (and the client's reads) have their turn
            if self.client_wrote:
                self.guarded(self.receive)
            sent = False
            # A few at a time, in one write: at most queue_size messages wait besides those being sent.
            while self.open and (batch := connection.take_pending(SEND_BATCH)):
                self.guarded(lambda: self.reader.send_frames(batch))
                WS_MESSAGES_SENT.inc(len(batch))
                sent = True
            if self.replay is not None and self.open:
                self.catch_up()
            elif not sent and self.open and time.monotonic() >= self.next_ping:
                self.ping()

    def catch_up(self) -> None:
        """Queue the next frames of the replay; once none are left the socket is live and the replay ends."""
        assert self.replay is not None
        connection = self.connection
        try:
            frames = self.replay.step(connection.queue_size)
        except CursorGone as gone:
            log.info("user %s: resuming stopped, %s", connection.principal.user_id, gone)
            hub = self.replay.hub
            self.end_replay()
            WS_REPLAYS.labels("resync_required").inc()
            if hub.join_at_tail(connection, lambda tail: [message_frame(resync_message(str(tail)))]) is None:
                connection.close(TRY_AGAIN_LATER, "The event feed is starting; try again shortly")
            return
        except (pika.exceptions.AMQPError, OSError) as error:
            log.warning("user %s: the stream could not be read to resume (%s)", connection.principal.user_id, error)
            self.end_replay()
            return connection.close(TRY_AGAIN_LATER, "The event feed's history cannot be read now; try again")
        if not frames:
            self.end_replay()
        connection.pending.extend(frames)

    def end_replay(self) -> None:
        assert self.replay is not None
        self.replay.close()
        self.replay = None

    @property
    def open(self) -> bool:
        return self.ws.connected and not self.client_gone and self.connection.close_code is None

    def on_readable(self) -> None:
        """Called by the event loop; quiet until the data is read, or the loop would spin while a write blocks."""
        self.readable.stop()
        self.client_wrote = True
        self.connection.wakeup.set()

    def receive(self) -> None:
        """Take in what the client sent (InlineReader); its messages themselves are dropped (discard_incoming)."""
        self.client_wrote = False
        if self.reader.read():
            discard_incoming(self.ws)
            self.readable.start(self.on_readable)

    def ping(self) -> None:
        if not self.reader.pong_received:
            return self.connection.close(PING_TIMEOUT, "No answer to ping")
        if self.hub is not None:
            self.hub.checkpoint(self.connection)  # sent with the next round of messages
        self.guarded(self.reader.send_ping)
        self.next_ping = time.monotonic() + self.ping_interval

    def guarded(self, action) -> None:
        """Read or write within the send timeout, or close the socket of a client too slow to take our writes."""
        done = False
        with quiet_timeout(self.send_timeout):
            try:
                action()
            except (ConnectionClosed, LocalProtocolError, OSError):
                self.client_gone = True  # it closed or broke the protocol while we were reading or writing
                return
            done = True
        if not done:
            WS_SLOW_SOCKETS_DROPPED.labels("send_timeout").inc()
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
