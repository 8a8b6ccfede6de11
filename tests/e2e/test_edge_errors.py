"""Errors and headers at the edge: what the gateway and the services answer to requests they cannot take, the
headers on every answer, and no token or ticket in any log however a WebSocket ends."""
import json
import socket
import threading
import uuid

import pytest
import requests
import websocket

from harness.ws import close_code
from tests.e2e.support import PROFILE
from tests.support import bearer, wait_for

SERVICES = ["users_svc", "tasks_svc", "notify_svc", "ws_relay"]
MAX_BODY_BYTES = 1024 * 1024  # the services' default MAX_BODY_BYTES, and the gateway's client_max_body_size


def gateway_port() -> int:
    return PROFILE.gateway_port


def service_port(name: str = "users_svc") -> int:
    return PROFILE.process(name).port


def exchange(port: int, head: bytes, body_chunks=(), timeout: float = 10) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes (the body's chunks from a thread, as a client that keeps sending while the server answers);
    the first answer's status line, headers (lower-case names) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(head)

        def send_body():
            try:
                for chunk in body_chunks:
                    conn.sendall(chunk)
            except OSError:
                pass  # the server answered and closed before taking it all: that is allowed
        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        data = b""
        while b"\r\n\r\n" not in data or len(data) < answer_length(data):
            try:
                received = conn.recv(65536)
            except ConnectionResetError:
                break
            if not received:
                break
            data += received
            if data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
                data = data[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    return status_line, headers, body[:int(headers.get("content-length", len(body)))]


def answer_length(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(data) + 1  # no length yet: keep reading until the server closes


def request(target: str, *headers: str, method: str = "GET") -> bytes:
    return "\r\n".join([f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]).encode("latin-1")


def assert_problem(answer, status: int):
    status_line, headers, body = answer
    assert status_line.startswith(f"HTTP/1.1 {status} "), status_line
    assert headers["content-type"] == "application/problem+json", (status_line, headers, body[:200])
    assert headers["x-content-type-options"] == "nosniff"
    problem = json.loads(body)
    assert problem["type"] == "about:blank" and problem["status"] == status and problem["title"]


BIG_HEADER = "X-Big: " + "a" * 20_000
MANY_HEADERS = [f"X-Field-{n}: v" for n in range(150)]  # each small: nginx passes them on, gunicorn takes 100


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
def test_an_oversized_header_is_a_json_431(port):
    answer = exchange(port(), request("/api/auth/me/", BIG_HEADER))
    assert_problem(answer, 431)


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
def test_too_many_header_fields_are_a_json_431(port):
    assert_problem(exchange(port(), request("/api/auth/me/", *MANY_HEADERS)), 431)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_answers_its_parse_errors_as_json(service):
    assert_problem(exchange(service_port(service), request("/healthz", BIG_HEADER)), 431)
    assert_problem(exchange(service_port(service), b"GET / a b HTTP/1.1\r\nHost: x\r\n\r\n"), 400)


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
@pytest.mark.parametrize("line", [b"GET / a b HTTP/1.1", b"G@T / HTTP/1.1", b"BLAH", b"GET /api/auth/me/\x01 HTTP/1.1"])
def test_a_bad_request_line_is_a_json_400(port, line):
    assert_problem(exchange(port(), line + b"\r\nHost: x\r\n\r\n"), 400)


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
def test_a_header_field_that_cannot_be_parsed_is_a_json_400(port):
    assert_problem(exchange(port(), request("/api/auth/me/", "X-A: a\x01b")), 400)


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
def test_an_over_long_uri_is_a_json_414(port):
    assert_problem(exchange(port(), request("/api/auth/me/?q=" + "a" * 9_000)), 414)


def chunked(total: int, size: int = 64 * 1024):
    """A JSON-looking body of `total` bytes in chunks, and the terminating chunk."""
    sent = 0
    while sent < total:
        part = b"[" * min(size, total - sent)
        sent += len(part)
        yield b"%x\r\n%s\r\n" % (len(part), part)
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
def test_a_chunked_body_over_the_limit_is_a_json_413(port):
    head = request("/api/auth/login/", "Content-Type: application/json", "Transfer-Encoding: chunked", method="POST")
    assert_problem(exchange(port(), head, chunked(2 * MAX_BODY_BYTES)), 413)


@pytest.mark.parametrize("port", [gateway_port, lambda: service_port("tasks_svc")], ids=["gateway", "service"])
def test_a_chunked_body_under_the_limit_reaches_the_view_whole(port, user):
    description = "d" * 9_000
    body = json.dumps({"title": "Sent in chunks", "description": description}).encode()
    head = request("/api/tasks/", "Content-Type: application/json", "Transfer-Encoding: chunked",
                   f"Authorization: Bearer {user.token}", method="POST")
    chunks = [b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:4_000], body[4_000:])]
    status_line, _, answer = exchange(port(), head, [*chunks, b"0\r\n\r\n"])
    assert status_line.startswith("HTTP/1.1 201 "), (status_line, answer[:300])
    assert json.loads(answer)["description"] == description


@pytest.mark.parametrize("port", [gateway_port, service_port], ids=["gateway", "service"])
def test_a_broken_chunked_body_is_a_json_400(port):
    head = request("/api/auth/login/", "Content-Type: application/json", "Transfer-Encoding: chunked", method="POST")
    assert_problem(exchange(port(), head, [b"ZZ\r\nabc\r\n0\r\n\r\n"]), 400)


@pytest.mark.parametrize("base", ["gateway", "service"])
def test_authenticated_answers_are_nosniff_and_never_stored(gateway, user, base):
    url = gateway if base == "gateway" else f"http://127.0.0.1:{service_port('tasks_svc')}"
    created = requests.post(f"{url}/api/tasks/", json={"title": "Cache me not"}, headers=bearer(user.token),
                            timeout=5)
    assert created.status_code == 201
    task_url = f"{url}/api/tasks/{created.json()['id']}/"
    fetched = requests.get(task_url, headers=bearer(user.token), timeout=5)
    for answer in (created, fetched):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"  # exactly one copy through the gateway
        assert answer.headers["Cache-Control"] == "no-store"
    unchanged = requests.get(task_url, headers={**bearer(user.token), "If-None-Match": fetched.headers["ETag"]},
                             timeout=5)
    assert unchanged.status_code == 304
    assert unchanged.headers["Cache-Control"] == "no-store" and unchanged.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("base", ["gateway", "service"])
def test_anonymous_answers_are_nosniff_and_left_to_caches(gateway, base):
    url = gateway if base == "gateway" else f"http://127.0.0.1:{service_port()}"
    health = requests.get(url + ("/healthz/users" if base == "gateway" else "/healthz"), timeout=5)
    refused = requests.get(f"{url}/api/auth/me/", timeout=5)
    assert (health.status_code, refused.status_code) == (200, 401)
    for answer in (health, refused):
        assert answer.headers["X-Content-Type-Options"] == "nosniff" and "Cache-Control" not in answer.headers


# WebSockets ended every way an ordinary client or the relay ends them; none may leave its credential in a log.

def open_socket(gateway: str, query: str, request_id: str) -> websocket.WebSocket:
    return websocket.create_connection(f"{gateway.replace('http', 'ws')}/ws/tasks/?{query}", timeout=10,
                                       suppress_origin=True, header=[f"X-Request-ID: {request_id}"])


def first_frame(ws: websocket.WebSocket) -> tuple[int, bytes]:
    return ws.recv_data(control_frame=True)


def closed_by_the_client(ws: websocket.WebSocket) -> None:
    first_frame(ws)
    ws.close()


def reset_by_the_client(ws: websocket.WebSocket) -> None:
    """No close frame: the connection is reset (RST), as when a browser's machine drops off."""
    first_frame(ws)
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, (1).to_bytes(4, "little") + (0).to_bytes(4, "little"))
    ws.sock.close()


def dropped_by_the_client(ws: websocket.WebSocket) -> None:
    """No close frame: the client shuts its socket and goes."""
    first_frame(ws)
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the relay refused the socket and closed it first
    ws.sock.close()


def closed_by_the_relay_for_a_message_too_big(ws: websocket.WebSocket) -> int | None:
    opcode, data = first_frame(ws)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        return close_code(data)  # refused at the handshake (the ticket): the relay closed it already
    try:
        ws.send("x" * (128 * 1024))  # twice the relay's limit: it closes with much of it unread (nginx sees a reset)
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return close_code(data)
    except (websocket.WebSocketException, OSError):
        return None
    finally:
        ws.close()


def log_files() -> list:
    return [path for path in PROFILE.log_dir.rglob("*") if path.is_file()]


def logs_contain(text: str) -> list[str]:
    return [str(path) for path in log_files() if text.encode() in path.read_bytes()]


def test_no_token_or_ticket_reaches_a_log_however_a_websocket_ends(gateway, user):
    ticket = "tkt" + uuid.uuid4().hex + uuid.uuid4().hex
    request_ids = []
    for query in (f"token={user.token}", f"ticket={ticket}", f"x=1&ticket={ticket}"):
        for end in (closed_by_the_client, reset_by_the_client, dropped_by_the_client):
            request_ids.append(request_id := "edge-" + uuid.uuid4().hex)
            end(open_socket(gateway, query, request_id))
        codes = []
        for _ in range(3):  # the close nginx logged a token for most often, but not every time
            request_ids.append(request_id := "edge-" + uuid.uuid4().hex)
            codes.append(closed_by_the_relay_for_a_message_too_big(open_socket(gateway, query, request_id)))
        if query.startswith("token="):
            # The relay closed them for the message, not for the token. It closes with much of the message unread,
            # so the client may get the reset before the close frame, and then no code (None): seen once in a run.
            assert set(codes) <= {1009, None} and 1009 in codes, codes
    # Every handshake is in the gateway's access log by its id once nginx saw its socket end: the logs were written.
    access_log = PROFILE.log_dir / "nginx-access.log"
    wait_for(lambda: all(rid in access_log.read_text() for rid in request_ids), timeout=15, interval=0.1,
             message="every WebSocket in the gateway's access log")
    header, payload, signature = user.token.split(".")
    for secret in (user.token, payload, signature, ticket):
        assert logs_contain(secret) == [], f"{secret[:12]}… found in the logs"
