"""One socket's greenlet (SocketLoop): it pings, sends, and reads what the client sends without a reader thread."""
import time
from types import SimpleNamespace

import gevent
import pytest
from gevent import socket
from simple_websocket import Server
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Pong, Request, TextMessage

from taskwire_common.auth import Principal
from ws_relay.hub import PING_TIMEOUT, UNAUTHORIZED, Connection
from ws_relay.sockets import SocketLoop
from ws_relay.wire import DormantReader, text_frame


class Client:
    """The far end of a socket pair, speaking WebSocket with wsproto."""

    def __init__(self, sock):
        self.sock, self.ws, self.events = sock, WSConnection(ConnectionType.CLIENT), []

    def send(self, event):
        self.sock.sendall(self.ws.send(event))

    def wait_for(self, kind, timeout=3.0):
        deadline = time.monotonic() + timeout
        while not any(isinstance(event, kind) for event in self.events):
            with gevent.Timeout(max(0.0, deadline - time.monotonic()), AssertionError(f"no {kind.__name__}")):
                self.ws.receive_data(self.sock.recv(65536) or None)
            self.events.extend(self.ws.events())
        return next(event for event in self.events if isinstance(event, kind))


@pytest.fixture
def relay_socket():
    """A relay-side simple-websocket Server as the relay configures it, and a connected client."""
    server_sock, client_sock = socket.socketpair()
    client = Client(client_sock)
    request = client.ws.send(Request(host="relay", target="/ws/tasks/")).decode()
    headers = dict(line.split(": ", 1) for line in request.split("\r\n")[1:] if line)
    environ = {"gunicorn.socket": server_sock,
               **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}}
    ws = Server(environ, max_message_size=1024, thread_class=DormantReader)
    client.wait_for(AcceptConnection)
    yield ws, client
    server_sock.close()
    client_sock.close()


def run_loop(ws, ping_interval=0.2, expires_in=600):
    now = int(time.time())
    principal = Principal(user_id=1, username="u1", role="admin", jti="t1", issued_at=now,
                          expires_at=now + expires_in, token_version=0)
    connection = Connection(principal, True, 10)
    settings = SimpleNamespace(ping_interval_seconds=ping_interval, send_timeout_seconds=2)
    return connection, gevent.spawn(SocketLoop(ws, connection, settings).run)


def test_a_client_that_answers_pings_stays_open(relay_socket):
    ws, client = relay_socket
    connection, loop = run_loop(ws)
    for _ in range(3):
        client.wait_for(Ping)
        client.events.clear()
        client.send(Pong())
    assert not loop.dead and connection.close_code is None
    loop.kill()


def test_a_client_that_stops_answering_pings_is_closed_1008(relay_socket):
    ws, client = relay_socket
    connection, loop = run_loop(ws)
    client.wait_for(Ping)
    loop.join(timeout=2)
    assert loop.dead and connection.close_code == PING_TIMEOUT


def test_queued_messages_are_sent_and_what_the_client_sends_is_answered_or_dropped(relay_socket):
    ws, client = relay_socket
    connection, loop = run_loop(ws, ping_interval=60)
    client.send(TextMessage(data="hello relay"))
    client.send(Ping(payload=b"are you there"))
    assert client.wait_for(Pong).payload == b"are you there"
    connection.offer(text_frame('{"type":"task_update"}'))
    assert client.wait_for(TextMessage).data == '{"type":"task_update"}'
    assert ws.input_buffer == [] and not loop.dead
    loop.kill()


def test_a_client_close_is_answered_and_ends_the_loop(relay_socket):
    ws, client = relay_socket
    _connection, loop = run_loop(ws, ping_interval=60)
    client.send(CloseConnection(code=1000, reason="bye"))
    assert client.wait_for(CloseConnection).code == 1000
    loop.join(timeout=2)
    assert loop.dead and not ws.connected


def test_a_message_over_the_size_limit_closes_the_socket_1009(relay_socket):
    ws, client = relay_socket
    _connection, loop = run_loop(ws, ping_interval=60)
    client.send(TextMessage(data="x" * 2000))
    assert client.wait_for(CloseConnection).code == 1009
    loop.join(timeout=2)
    assert loop.dead


def test_an_expired_token_ends_the_loop_with_4401(relay_socket):
    ws, _client = relay_socket
    connection, loop = run_loop(ws, ping_interval=60, expires_in=1)
    loop.join(timeout=3)
    assert loop.dead and connection.close_code == UNAUTHORIZED
