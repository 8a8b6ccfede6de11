"""The sockets of the mass-resume scenario: each checks, message by message, that the relay replays exactly
what it missed, in order, before the live marker; or compares what it receives byte for byte with what a
probe resuming from the same cursor received and was checked on (a Replayed), and checks only what follows
or differs. bench/resume.py runs the scenario's steps with them."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import gevent
import orjson
import websocket
from gevent.pool import Pool

from harness.ws_load import ExpectedPrefix, read_raw_messages, server_frames

MAX_PROBLEMS = 5  # noted per socket; the first is enough to fail the scenario, a few tell the pattern


def cursor_offset(cursor: str) -> int:
    """The stream offset in the relay's cursor (`<offset>.<fingerprint>`, ws_relay/history.py). Clients treat
    cursors as opaque; the bench reads the offset only to check that messages come in stream order."""
    return int(cursor.split(".", 1)[0])


@dataclass(frozen=True)
class Run:
    """The events published while the sockets are away (task ids first_id .. first_id + events - 1, titled
    `<name> <n>`), and the live marker after them (task id first_id + events)."""

    name: str
    first_id: int
    events: int

    @property
    def marker_id(self) -> int:
        return self.first_id + self.events


@dataclass
class FeedSocket:
    """One client socket and what it received, checked as it arrives: a hello first (at `since` when resuming),
    cursors strictly increasing, the run's events once each in order, the marker only after all of them."""

    since: str | None
    run: Run | None
    opened_at: float | None = None
    last_cursor: str | None = None
    last_offset: int = -1
    events: int = 0  # the run's events received, in order
    others: int = 0  # messages after the hello that are not the run's (another producer's events)
    caught_up_at: float | None = None  # arrival of the run's last event
    marker_at: float | None = None
    ended: str | None = None  # how the connection ended, when the relay or the network ended it
    problems: list[str] = field(default_factory=list)
    replayed: Replayed | None = None  # what this socket is expected to be sent first, compared byte for byte
    recording: list[str] | None = None  # a probe's messages, as received, up to the run's last event
    compared: ExpectedPrefix | None = None  # set while reading, when `replayed` is

    def matched(self, arrived: float) -> None:
        """Every byte of `replayed` arrived as expected: this socket is where the probe was after the same bytes."""
        assert self.replayed is not None
        probe = self.replayed.probe
        self.last_cursor, self.last_offset = probe.last_cursor, probe.last_offset
        self.events, self.others = probe.events, probe.others
        self.caught_up_at = arrived

    def receive(self, message: dict[str, Any], arrived: float) -> None:
        kind, cursor = message.get("type"), message.get("cursor")
        if not isinstance(cursor, str):
            return self.problem(f"a {kind} message without a cursor")
        if self.last_cursor is None and kind != "hello":
            return self.problem(f"a {kind} message before the hello")
        if self.last_cursor is not None and kind == "hello":
            return self.problem("a second hello")
        if kind == "hello" and self.since is not None and cursor != self.since:
            self.problem(f"hello at {cursor}, not at the cursor {self.since} it resumed from")
        offset = cursor_offset(cursor)
        if kind != "hello" and offset <= self.last_offset:
            self.problem(f"cursor {cursor} after {self.last_cursor}: out of order or sent twice")
        self.last_cursor, self.last_offset = cursor, offset
        if kind == "resync_required":
            self.problem(f"resync_required at {cursor}: the relay could not replay from {self.since}")
        elif kind == "task_update" and self.run is not None and self.is_of_run(message["task"]):
            self.count_event(message["task"]["id"] - self.run.first_id, arrived)
        elif kind != "hello":
            self.others += 1

    def is_of_run(self, task: dict[str, Any]) -> bool:
        assert self.run is not None
        return str(task.get("title", "")).startswith(self.run.name)

    def count_event(self, number: int, arrived: float) -> None:
        assert self.run is not None
        if number == self.run.events:
            if self.events != self.run.events:
                self.problem(f"the live marker after {self.events} of {self.run.events} events")
            if self.marker_at is not None:
                self.problem("the live marker twice")
            self.marker_at = arrived
        elif number != self.events:
            self.problem(f"event {number} of the run where {self.events} was due")
        else:
            self.events += 1
            if self.events == self.run.events:
                self.caught_up_at = arrived

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


@dataclass(frozen=True)
class Replayed:
    """What a probe resuming from `since` received up to the run's last event, every message checked, and as the
    frames it came in: another socket resuming from the same cursor must receive these very bytes first."""

    since: str
    probe: FeedSocket
    frames: bytes

    @classmethod
    def of(cls, probe: FeedSocket) -> Replayed:
        assert probe.since is not None and probe.recording is not None and probe.caught_up_at is not None
        return cls(probe.since, probe, server_frames(probe.recording))


class FeedSockets:
    """Many FeedSockets of one URL, each a greenlet (the bench patched with gevent) that reads from the moment its
    own handshake is done: reading only once all were open would stall the relay's writes to the first ones."""

    def __init__(self, url: str):
        self.url = url
        self.sockets: list[FeedSocket] = []
        self._connections: list[websocket.WebSocket] = []
        self._readers: list[gevent.Greenlet] = []

    def open(self, sockets: list[FeedSocket]) -> None:
        """Start every socket's handshake at once, each with `since=` its cursor when it has one; returns once
        every handshake has begun."""
        self.sockets += sockets
        self._readers += [gevent.spawn(self._run, client) for client in sockets]
        gevent.sleep(0)  # each greenlet runs up to its first wait: the connect

    def _run(self, client: FeedSocket) -> None:
        url = self.url + (f"&since={quote(client.since)}" if client.since is not None else "")
        try:
            ws = websocket.create_connection(url, timeout=60, suppress_origin=True)  # not a browser: no Origin
        except (websocket.WebSocketException, OSError) as exc:
            client.ended = f"handshake failed: {type(exc).__name__}: {exc}"
            return
        client.opened_at = time.time()
        self._connections.append(ws)
        ws.settimeout(None)

        def deliver(text: str, arrived: float) -> None:
            if client.recording is not None and client.caught_up_at is None:
                client.recording.append(text)
            client.receive(orjson.loads(text), arrived)
        if client.replayed is not None:
            client.compared = ExpectedPrefix(client.replayed.frames, client.matched)
        try:
            ending = read_raw_messages(ws, deliver, client.compared)
        except ValueError as exc:  # a message that is not JSON
            ending = f"{type(exc).__name__}: {exc}"
        client.ended = f"{ending} after {client.events} events"

    def raise_failures(self, stage: str) -> None:
        """Fail the scenario loudly when a socket broke a check or was ended."""
        if failures := self.failures():
            raise RuntimeError(f"{stage}: {len(failures)} of {len(self.sockets)} sockets failed; the first: "
                               + " | ".join(failures[:5]))

    def failures(self) -> list[str]:
        """One line for each socket that failed a check or was ended, for the scenario to raise with."""
        return [f"socket {index}: {'; '.join(client.problems + ([client.ended] if client.ended else []))}"
                for index, client in enumerate(self.sockets) if client.problems or client.ended]

    def close(self) -> None:
        """Close every socket (a close frame, a short wait for the relay's), a few hundred at a time."""
        gevent.killall(self._readers)
        Pool(200).map(close_quietly, self._connections)
        self._connections, self._readers = [], []


def close_quietly(ws: websocket.WebSocket) -> None:
    try:
        ws.close(timeout=1)
    except (websocket.WebSocketException, OSError):
        pass
