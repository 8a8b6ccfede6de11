"""WebSocket clients of the relay: a pool of many (greenlets), a counting pool, one that never reads,
a live feed read in a thread, and a watcher that reconnects whenever its socket closes."""
from __future__ import annotations

import fcntl
import json
import random
import socket
import struct
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import gevent
import websocket
from gevent.pool import Pool
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage
from wsproto.utilities import RemoteProtocolError

from .api import Person

TCP_STATES = {1: "ESTABLISHED", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK"}
SLOW_RCVBUF = 4096  # the kernel doubles it; so small that the relay's queue, not the kernel, holds the backlog
NO_STATUS = 1005  # the close code a close frame without a status stands for (RFC 6455)


def ws_url(gateway: str, path: str = "/ws/tasks/", token: str | None = None, since: str | None = None,
           ticket: str | None = None) -> str:
    """The WebSocket URL of a path on an http:// gateway, with `?token=`, `ticket=` and `since=` when given."""
    query = urlencode({name: value for name, value in (("token", token), ("ticket", ticket), ("since", since))
                       if value is not None})
    return gateway.replace("http://", "ws://") + path + (f"?{query}" if query else "")


def close_code(data: bytes | None) -> int | None:
    """The status of a close frame's payload; None when it carries none."""
    data = data or b""
    return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


def read_messages(ws: websocket.WebSocket, on_message: Callable[[dict[str, Any]], None],
                  on_ping: Callable[[], None] | None = None,
                  stopping: threading.Event | None = None) -> int | None:
    """Read text messages (as JSON) into `on_message` until the server closes the socket: its close code
    (1005 when it gave none); None when the connection failed, or `stopping` was set."""
    while stopping is None or not stopping.is_set():
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            continue  # a timeout set on the socket only lets `stopping` be looked at
        except (websocket.WebSocketException, OSError):
            return None
        if opcode == websocket.ABNF.OPCODE_TEXT:
            on_message(json.loads(data))
        elif opcode == websocket.ABNF.OPCODE_PING and on_ping is not None:
            on_ping()
        elif opcode == websocket.ABNF.OPCODE_CLOSE:
            code = close_code(data)
            return NO_STATUS if code is None else code
    return None


class LiveFeed:
    """A WebSocket client that reads everything in a background thread, as a browser would."""

    def __init__(self, gateway: str, token: str | None, path: str = "/ws/tasks/", since: str | None = None,
                 ticket: str | None = None, **options: Any):
        self.ws = websocket.create_connection(ws_url(gateway, path, token, since, ticket), timeout=10, **options)
        self.ws.settimeout(None)
        self.messages: list[dict[str, Any]] = []
        self.pings = 0
        self.close_code: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        self.close_code = read_messages(self.ws, self.messages.append, on_ping=self._pinged)

    def _pinged(self) -> None:
        self.pings += 1

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def closed(self) -> bool:
        return not self._reader.is_alive()

    def close(self) -> None:
        try:
            self.ws.close()
        except OSError:
            pass


@dataclass
class Session:
    """One WebSocket connection of a watcher: the task event ids and notifications it received, and its cursor."""

    opened: float
    since: str | None = None  # the cursor it resumed from
    closed: float | None = None
    close_code: int | None = None
    event_ids: list[str] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    cursor: str | None = None  # of the last message that had one
    resyncs: int = 0

    def receive(self, message: dict[str, Any]) -> None:
        self.cursor = message.get("cursor", self.cursor)
        if message["type"] == "task_update":
            self.event_ids.append(message["event_id"])
        elif message["type"] == "notification":
            self.notifications.append(message["notification"])
        elif message["type"] == "resync_required":
            self.resyncs += 1


class Watcher:
    """One person's WebSocket client in a thread: reads everything, reconnects whenever the socket closes.

    A resuming watcher reconnects with `since=` the last cursor it received, and when `drop_after`
    (seconds, low and high) is given it also leaves each socket itself after a random while in
    that range, as a client on a poor network would.
    """

    def __init__(self, gateway: str, person: Person, resume: bool = False,
                 drop_after: tuple[float, float] | None = None, seed: int = 0):
        self.gateway, self.person, self.resume, self.drop_after = gateway, person, resume, drop_after
        self.rng = random.Random(seed)
        self.sessions: list[Session] = []
        self.stopping = threading.Event()
        self.leaving = threading.Event()  # the current session's: set to leave it
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"watcher-{person.username}")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.leaving.set()
        self.thread.join(timeout=10)

    def stop_dropping(self) -> None:
        self.drop_after = None

    @property
    def cursor(self) -> str | None:
        return next((s.cursor for s in reversed(self.sessions) if s.cursor), None)

    @property
    def current(self) -> Session | None:
        session = self.sessions[-1] if self.sessions else None
        return session if session and session.closed is None else None

    def _run(self) -> None:
        delay = 0.1
        while not self.stopping.is_set():
            since = self.cursor if self.resume else None
            try:
                ws = websocket.create_connection(ws_url(self.gateway, token=self.person.token, since=since),
                                                 timeout=5)
            except (websocket.WebSocketException, OSError):
                self.stopping.wait(delay)
                delay = min(delay * 2, 2.0)
                continue
            session = Session(opened=time.monotonic(), since=since)
            self.sessions.append(session)
            ws.settimeout(1)
            self.leaving.clear()
            if self.stopping.is_set():  # stop() came between the loop's check and the clear
                self.leaving.set()
            timer = None
            if self.drop_after is not None:
                timer = threading.Timer(self.rng.uniform(*self.drop_after), self.leaving.set)
                timer.start()
            try:
                session.close_code = read_messages(ws, session.receive, stopping=self.leaving)
            finally:
                if timer is not None:
                    timer.cancel()
                session.closed = time.monotonic()
                ws.close()
            if session.event_ids or session.notifications or session.close_code is None:
                delay = 0.1  # it was live, or it left by itself
            self.stopping.wait(delay)
            delay = min(delay * 2, 2.0)


RECEIVE_BYTES = 65536


def read_raw_messages(ws: websocket.WebSocket, deliver: Callable[[str, float], None]) -> str:
    """Read a connected socket's text messages until it ends, handing each to `deliver` with its arrival
    time; pings are answered. Returns how it ended.

    The raw socket is read in large pieces and parsed by wsproto (the relay's own WebSocket library):
    websocket-client spends more on a frame (three reads, a frame object, a UTF-8 check in pure Python)
    than the relay does sending it, so a bench reading thousands of sockets with it measured itself. In
    websocket-client 1.9 (the lock pins 1.9.2) `sock` is the connected socket, and its handshake reads
    no further than the headers, so every frame is still to be read from it.
    """
    sock, frames, parts = ws.sock, Connection(ConnectionType.CLIENT), []
    if sock is None:
        return "no socket after the handshake"
    try:
        while True:
            data = sock.recv(RECEIVE_BYTES)
            if not data:
                return "connection closed without a close frame"
            arrived = time.time()
            frames.receive_data(data)
            for event in frames.events():
                if isinstance(event, TextMessage):  # wsproto hands over what arrived of a message so far
                    parts.append(event.data)
                    if event.message_finished:
                        deliver("".join(parts), arrived)
                        parts.clear()
                elif isinstance(event, Ping):
                    ws.pong(event.payload)
                elif isinstance(event, CloseConnection):
                    return f"closed by the relay ({event.code})"
    except (websocket.WebSocketException, OSError, RemoteProtocolError) as exc:
        return f"{type(exc).__name__}: {exc}"


class SocketPool:
    """Many sockets as greenlets (the process has patched with gevent), each message recorded with its arrival time."""

    def __init__(self) -> None:
        self.sockets: list[websocket.WebSocket] = []
        self.received: list[tuple[int, float, str | bytes]] = []  # (socket index, arrival time, raw message)
        self._readers: list = []

    def open(self, urls: list[str], concurrency: int = 200, log: Callable[[str], None] = print) -> None:
        """Open one socket per URL; raises if any fails."""
        pool = Pool(concurrency)
        # Not a browser: no Origin header (websocket-client would invent one from the URL).
        sockets = pool.map(lambda url: websocket.create_connection(url, timeout=60, suppress_origin=True), urls)
        for index, ws in enumerate(sockets, start=len(self.sockets)):
            ws.settimeout(None)
            self._readers.append(gevent.spawn(self._read, index, ws))
        self.sockets.extend(sockets)
        log(f"  {len(self.sockets)} sockets open")

    def _read(self, index: int, ws: websocket.WebSocket) -> None:
        read_raw_messages(ws, lambda text, arrived: self.received.append((index, arrived, text)))

    def close(self) -> None:
        gevent.killall(self._readers, block=False)
        for ws in self.sockets:
            try:
                ws.close(timeout=0.1)
            except (websocket.WebSocketException, OSError):
                pass
        self.sockets, self._readers = [], []


class CountingPool(SocketPool):
    """A pool whose sockets keep counts by message type rather than every message, and how each ended."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[int, dict[str, int]] = {}
        self.last_arrival: dict[int, float] = {}
        self.ended: dict[int, dict] = {}  # index -> {at, code or error}; sockets the server closed

    def _read(self, index: int, ws: websocket.WebSocket) -> None:
        counts = self.counts.setdefault(index, {"task_update": 0, "notification": 0, "other": 0})
        while True:
            try:
                opcode, frame = ws.recv_data_frame()  # answers the relay's pings as it goes
            except (websocket.WebSocketException, OSError) as exc:
                self.ended[index] = {"at": time.time(), "error": f"{type(exc).__name__}: {exc}"}
                return
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.ended[index] = {"at": time.time(), "code": close_code(frame.data)}
                return
            kind = json.loads(frame.data).get("type")
            counts[kind if kind in counts else "other"] += 1
            self.last_arrival[index] = time.time()

    def received_since(self, moment: float) -> int:
        """How many sockets received a message after `moment`."""
        return sum(1 for arrival in self.last_arrival.values() if arrival >= moment)


class NeverReadingClient:
    """One socket that never reads after its handshake; watched from outside through its kernel socket."""

    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True,
                                              sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF),))
        self.opened_at = time.time()

    def kernel_view(self) -> dict[str, Any]:
        """What the client's kernel holds: bytes received but never read, and the TCP state."""
        sock = self.ws.sock  # websocket-client 1.8's raw socket: FIONREAD and TCP_INFO need its descriptor
        if sock is None:
            return {"unread_bytes": None, "tcp_state": "no socket: closed by the client"}
        waiting = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        return {"unread_bytes": waiting, "tcp_state": TCP_STATES.get(state, str(state))}

    def drain(self, seconds: float = 30.0) -> dict[str, Any]:
        """Read at last what was sent: the messages, then how the connection ended (or that it had not)."""
        messages, ended = 0, None  # type: tuple[int, dict[str, Any] | None]
        self.ws.settimeout(seconds)
        while ended is None:
            try:
                opcode, frame = self.ws.recv_data_frame()
            except websocket.WebSocketTimeoutException:
                ended = {"how": "still open: nothing more to read and no close"}
            except (websocket.WebSocketException, OSError) as exc:
                ended = {"how": "connection closed by the server without a close frame",
                         "error": f"{type(exc).__name__}: {exc}"}
            else:
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    ended = {"how": "close frame", "code": close_code(frame.data)}
                else:
                    messages += 1
        try:
            self.ws.close(timeout=0.1)
        except (websocket.WebSocketException, OSError):
            pass
        return {"messages_read_at_the_end": messages, **ended}
