"""The soak's WebSocket clients: readers that count what they get and how they end, and one that never reads."""
from __future__ import annotations

import fcntl
import json
import socket
import struct
import termios
import time

import websocket

from bench.ws_clients import SocketPool

TCP_STATES = {1: "ESTABLISHED", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK"}
SLOW_RCVBUF = 4096  # the kernel doubles it; so small that the relay's queue, not the kernel, holds the backlog


def close_code(frame) -> int | None:
    data = frame.data or b""
    return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


class CountingPool(SocketPool):
    """bench's pool, but each socket keeps counts rather than every message, and how it ended."""

    def __init__(self):
        super().__init__()
        self.counts: dict[int, dict[str, int]] = {}
        self.last_arrival: dict[int, float] = {}
        self.ended: dict[int, dict] = {}  # index -> {at, code or error}; sockets the server closed

    def _read(self, index: int, ws) -> None:
        counts = self.counts.setdefault(index, {"task_update": 0, "notification": 0, "other": 0})
        while True:
            try:
                opcode, frame = ws.recv_data_frame()  # answers the relay's pings as it goes
            except (websocket.WebSocketException, OSError) as exc:
                self.ended[index] = {"at": time.time(), "error": f"{type(exc).__name__}: {exc}"}
                return
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.ended[index] = {"at": time.time(), "code": close_code(frame)}
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

    def kernel_view(self) -> dict:
        """What the client's kernel holds: bytes received but never read, and the TCP state."""
        sock = self.ws.sock
        waiting = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]
        state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        return {"unread_bytes": waiting, "tcp_state": TCP_STATES.get(state, str(state))}

    def drain(self, seconds: float = 30.0) -> dict:
        """Read at last what was sent: the messages, then how the connection ended (or that it had not)."""
        messages, ended = 0, None
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
                    ended = {"how": "close frame", "code": close_code(frame)}
                else:
                    messages += 1
        try:
            self.ws.close(timeout=0.1)
        except (websocket.WebSocketException, OSError):
            pass
        return {"messages_read_at_the_end": messages, **ended}
