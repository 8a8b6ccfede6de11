"""Where the relay reaches into simple-websocket and wsproto: frames made once, written without a reader thread.

simple-websocket reads a socket only in a thread of its own and writes each message with its own
`send`, which frames it again for every socket; the relay's SocketLoop (sockets.py) reads and
writes itself, through these, and a message is framed once (`text_frame`) for all its sockets.
"""
from __future__ import annotations

import socket
from typing import Protocol, cast

from simple_websocket import ConnectionClosed, Server
from wsproto.events import Ping
from wsproto.frame_protocol import FrameProtocol

from taskwire_common.socket_messages import ClientMessage, encode_message

# A server's frames are not masked and the relay compresses none (the gateway declines permessage-deflate; an
# uncompressed message is valid on a socket that negotiated it, RFC 7692 section 6), so the bytes of a text
# message are the same on every socket. wsproto frames them; the framing keeps no state between whole messages.
_SERVER_FRAMES = FrameProtocol(client=False, extensions=[])


def text_frame(message: str) -> bytes:
    """The WebSocket frame of a text message as the relay sends it, on any socket: built once, written to many."""
    return bytes(_SERVER_FRAMES.send_data(message, fin=True))


def message_frame(message: ClientMessage) -> bytes:
    """The frame of one of the relay's messages (taskwire_common/socket_messages.py)."""
    return text_frame(encode_message(message))


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

    def send_frames(self, frames: list[bytes]) -> None:
        """Send frames (`text_frame`) in one write, waiting for the client as long as it takes. (simple-websocket's
        `send` writes each message on its own, and with `send`, which may write part of a frame when the kernel's
        buffer is nearly full: `sendall` writes it all.)"""
        if not self.ws.connected:
            raise ConnectionClosed()
        self.sock.sendall(b"".join(frames))

    def send_now(self, frame: bytes) -> int:
        """Write what the kernel takes of a frame at once, never waiting: how many bytes that was (0 when its buffer
        is full). gevent's `send` takes a `timeout`; 0.0 makes it raise rather than wait (gevent 26.9)."""
        if not self.ws.connected:
            return 0
        try:
            return self.sock.send(frame, 0, timeout=0.0)  # type: ignore[call-arg]
        except BlockingIOError:
            return 0
