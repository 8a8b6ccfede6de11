"""WebSocket clients of the relay, one at a time: a live feed read in a thread, a session, and a watcher that
reconnects whenever its socket closes. The clients that make load, by the thousand, are in harness.ws_load."""
from __future__ import annotations

import json
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import websocket

from .api import Person

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
    # (the event's occurred_at, when it arrived), both seconds since the epoch, for each task_update
    arrivals: list[tuple[float, float]] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)
    cursor: str | None = None  # of the last message that had one
    resyncs: int = 0

    def receive(self, message: dict[str, Any]) -> None:
        self.cursor = message.get("cursor", self.cursor)
        if message["type"] == "task_update":
            self.event_ids.append(message["event_id"])
            occurred = datetime.fromisoformat(message["occurred_at"].replace("Z", "+00:00")).timestamp()
            self.arrivals.append((occurred, time.time()))
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
