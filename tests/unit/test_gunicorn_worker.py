"""What a service answers to a request gunicorn refuses itself: problem details with the matching status, no HTML,
no stack trace, and nothing of the request (a token) in the answer or the log."""
import json
import logging
import socket

import pytest
from gunicorn.config import Config
from gunicorn.http import get_parser

from taskwire_common import gunicorn_conf
from taskwire_common.gunicorn_worker import ProblemGeventWorker

SECRET = "eyJsecret.token.value"


def parse_error(raw: bytes) -> BaseException:
    """The exception gunicorn's own parser raises for these bytes, under our gunicorn_conf's limits."""
    cfg = Config()
    for name in ("limit_request_line", "limit_request_fields", "limit_request_field_size"):
        if hasattr(gunicorn_conf, name):
            cfg.set(name, getattr(gunicorn_conf, name))
    parser = get_parser(cfg, iter([raw]), ("203.0.113.9", 40000))
    with pytest.raises(Exception) as raised:
        request = next(parser)
        request.body.read()  # a chunked body is parsed as it is read
    return raised.value


def answer_to(exc: BaseException, caplog) -> tuple[str, dict[str, str], bytes]:
    """The status line, headers and body the worker writes for this error."""
    worker = ProblemGeventWorker.__new__(ProblemGeventWorker)  # no process: handle_error needs only the logger
    worker.log = logging.getLogger("test.gunicorn.error")
    server, client = socket.socketpair()
    with server, client, caplog.at_level(logging.DEBUG, logger="test.gunicorn.error"):
        worker.handle_error(None, server, ("203.0.113.9", 40000), exc)
        server.shutdown(socket.SHUT_WR)
        data = b"".join(iter(lambda: client.recv(65536), b""))
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return status_line, headers, body


CASES = {
    "too many header fields": (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(150))
                               + b"\r\n", 431, "Request Header Fields Too Large"),
    "a header field too large": (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
                                 431, "Request Header Fields Too Large"),
    "a request line too long": (b"GET /?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI Too Long"),
    "a broken request line": (b"GET /ws/tasks/?token=" + SECRET.encode() + b"\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
                              400, "Bad Request"),
    "a request line of three words too many": (b"GET / a b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request"),
    "a broken method": (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request"),
    "a header line without a colon": (b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization Bearer " + SECRET.encode()
                                      + b"\r\n\r\n", 400, "Bad Request"),
    "a control character in a header": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400, "Bad Request"),
    "a broken chunk": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
                       400, "Bad Request"),
    "an unknown transfer coding": (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: bogus, chunked\r\n\r\n",
                                   501, "Not Implemented"),
    "an unknown expectation": (b"POST / HTTP/1.1\r\nHost: x\r\nExpect: gimme\r\nContent-Length: 0\r\n\r\n",
                               417, "Expectation Failed"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_request_gunicorn_refuses_is_answered_as_problem_details(case, caplog):
    raw, status, title = CASES[case]
    status_line, headers, body = answer_to(parse_error(raw), caplog)
    assert status_line == f"HTTP/1.1 {status} {title}"
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Connection"] == "close"
    assert int(headers["Content-Length"]) == len(body)
    problem = json.loads(body)
    assert problem["type"] == "about:blank" and problem["status"] == status and problem["title"] == title
    assert problem["detail"]


@pytest.mark.parametrize("case", ["a broken request line", "a header line without a colon"])
def test_neither_the_answer_nor_the_log_repeats_the_request(case, caplog):
    exc = parse_error(CASES[case][0])
    assert SECRET in str(exc)  # what gunicorn's own handler would have logged and sent
    _, _, body = answer_to(exc, caplog)
    assert SECRET not in body.decode()
    assert caplog.records and SECRET not in caplog.text
    assert "203.0.113.9" in caplog.text  # the log still says who


def test_an_unexpected_error_is_a_500_problem_without_a_stack_trace(caplog):
    class Request:
        path = "/ws/tasks/"
        uri = f"/ws/tasks/?token={SECRET}"

    worker = ProblemGeventWorker.__new__(ProblemGeventWorker)
    worker.log = logging.getLogger("test.gunicorn.error")
    server, client = socket.socketpair()
    with server, client, caplog.at_level(logging.DEBUG, logger="test.gunicorn.error"):
        try:
            raise RuntimeError("boom in the app's iterator")
        except RuntimeError as exc:
            worker.handle_error(Request(), server, ("203.0.113.9", 40000), exc)
        server.shutdown(socket.SHUT_WR)
        data = b"".join(iter(lambda: client.recv(65536), b""))
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert json.loads(body)["status"] == 500
    assert b"Traceback" not in data and b"boom" not in data
    assert "/ws/tasks/" in caplog.text and SECRET not in caplog.text  # logged with its trace, path only


def test_the_services_run_this_worker():
    assert gunicorn_conf.worker_class == "taskwire_common.gunicorn_worker.ProblemGeventWorker"
    from gunicorn.util import load_class

    assert load_class(gunicorn_conf.worker_class) is ProblemGeventWorker
