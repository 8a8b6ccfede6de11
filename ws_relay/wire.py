"""Where the relay reaches into simple-websocket: one greenlet per socket reads and writes it, no reader thread.

simple-websocket reads a socket only in a thread of its own and writes each message with its own
`send`; the relay's SocketLoop (sockets.py) does both itself, through these.
"""
from __future__ import annotations

import socket
from typing import Protocol, cast

from simple_websocket import ConnectionClosed, Server
from wsproto.events import Ping, TextMessage


class DormantReader:
    """Stands in for the reader thread simple-websocket starts for every socket (its `thread_class`).

    It is never started: the socket's own greenlet reads (SocketLoop.receive). A second greenlet per
    socket cost ~13 KiB of the relay's memory, and it wrote to the socket too (answers to the
    client's pings and close), which collided with the sender's writes when a slow client made
    one block.
    """

    def __init__(self, target):
        self.name = "simple-websocket reader (not started)"

    def start(self) -> None:
        pass


class HandlesEvents(Protocol):
    """The private method of simple-websocket 1.1.0's Base that InlineReader calls (its stubs type the public API)."""

    def _handle_events(self) -> bool:
        """Act on the wsproto events received: answer pings and close, note pongs, keep messages. False once closed."""
        ...


class InlineReader:
    """What simple-websocket's reader thread does, done by the socket's own greenlet: every reach into the library.

    simple-websocket reads a socket only in that thread, and offers no public call to read one
    otherwise: this uses its raw socket (`sock`), its wsproto connection (`ws`), `receive_bytes`,
    `pong_received` and `Server._handle_events`, as `Base._thread` does in simple-websocket 1.1.0,
    the version it was written against (pyproject.toml pins 1.1.x). Check it against that method
    before allowing another version.
    """

    def __init__(self, ws: Server):
        self.ws = ws
        # The stubs type `sock` on the base class the client shares; a Server refuses to exist without one.
        if ws.sock is None:
            raise RuntimeError("the WebSocket has no socket to read")
        self.sock: socket.socket = ws.sock

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> bool:
        """Take in what the client sent and answer its pings and close, note pongs, enforce max_message_size;
        what it sent is then in the library's input buffer. False once the client left or closed."""
        data = self.sock.recv(self.ws.receive_bytes)
        if not data:
            self.ws.connected = False
            return False
        self.ws.ws.receive_data(data)
        self.ws.connected = cast(HandlesEvents, self.ws)._handle_events()
        return self.ws.connected

    @property
    def pong_received(self) -> bool:
        """Whether the client answered the last ping."""
        return self.ws.pong_received

    def send_ping(self) -> None:
        self.ws.pong_received = False
        self.sock.sendall(self.ws.ws.send(Ping()))

    def send_texts(self, messages: list[str]) -> None:
        """Send text messages in one write. (simple-websocket's `send` writes each on its own, and with `send`,
        which may write part of a frame when the kernel's buffer is nearly full: `sendall` writes it all.)"""
        if not self.ws.connected:
            raise ConnectionClosed()
        self.sock.sendall(b"".join(self.ws.ws.send(TextMessage(data=message)) for message in messages))
