"""WebSocket clients of the relay that make load: a pool of many (greenlets) reading raw frames, a counting
pool, and one that never reads. The clients one test holds at a time are in harness.ws."""
from __future__ import annotations

import fcntl
import json
import socket
import struct
import termios
import time
from collections.abc import Callable
from typing import Any

import gevent
import websocket
from gevent.pool import Pool
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage
from wsproto.frame_protocol import FrameProtocol
from wsproto.utilities import RemoteProtocolError

from .ws import close_code

TCP_STATES = {1: "ESTABLISHED", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK"}
SLOW_RCVBUF = 4096  # the kernel doubles it; so small that the relay's queue, not the kernel, holds the backlog
RECEIVE_BYTES = 65536


def read_raw_messages(ws: websocket.WebSocket, deliver: Callable[[str, float], None],
                      expected: ExpectedPrefix | None = None) -> str:
    """Read a connected socket's text messages until it ends, handing each to `deliver` with its arrival
    time; pings are answered. Returns how it ended.

    The raw socket is read in large pieces and parsed by wsproto (the relay's own WebSocket library):
    websocket-client spends more on a frame (three reads, a frame object, a UTF-8 check in pure Python)
    than the relay does sending it, so a bench reading thousands of sockets with it measured itself. In
    websocket-client 1.9 (the lock pins 1.9.2) `sock` is the connected socket, and its handshake reads
    no further than the headers, so every frame is still to be read from it.

    With `expected`, the bytes that arrive are first compared with its frames; see ExpectedPrefix.
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
            if expected is not None:
                data, expected = expected.take(data, arrived)
                if not data:
                    continue
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


_SERVER_FRAMES = FrameProtocol(client=False, extensions=[])


def server_frames(messages: list[str]) -> bytes:
    """The bytes of these text messages as a server sends them: unmasked, one frame each (RFC 6455)."""
    return b"".join(bytes(_SERVER_FRAMES.send_data(message, fin=True)) for message in messages)


class ExpectedPrefix:
    """Frames a socket is expected to receive first, compared byte for byte as they arrive instead of parsed.

    Many sockets sent the very same messages (a mass resume from one cursor) are checked at the
    cost of a comparison: parsing each of their messages in Python cost the bench more than the
    relay spent sending them. `matched(arrived)` is called when the whole prefix has arrived; from
    the first byte that differs (a ping, another message), everything the socket received, the
    matched part included, is parsed and delivered as if no prefix had been expected, so its reader
    checks it all; `diverged` is then True.
    """

    def __init__(self, frames: bytes, matched: Callable[[float], None]):
        self.frames, self.matched = frames, matched
        self.position = 0
        self.diverged = False

    def take(self, data: bytes, arrived: float) -> tuple[bytes, ExpectedPrefix | None]:
        """What is left of `data` to parse, and the prefix while it is still being matched (else None)."""
        end = self.position + len(data)
        if self.frames.startswith(data[:len(self.frames) - self.position], self.position):
            if end < len(self.frames):
                self.position = end
                return b"", self
            rest = data[len(self.frames) - self.position:]
            self.position = len(self.frames)
            self.matched(arrived)
            return rest, None
        self.diverged = True
        return self.frames[:self.position] + data, None


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
