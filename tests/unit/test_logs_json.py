"""LOG_FORMAT=json: one JSON object per line with what is known of the work in hand; the text format as it was."""
import json
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from flask import Flask, g

from taskwire_common import logs
from taskwire_common.auth import Principal
from taskwire_common.consumer import one_at_a_time
from taskwire_common.requestid import register_request_id, request_line_level
from taskwire_common.settings import ConfigurationError
from tests.support import wait_for

REPO = Path(__file__).resolve().parents[2]
log = logging.getLogger("taskwire.test_logs")


@pytest.fixture
def configure(monkeypatch, capsys):
    """configure_logging under a LOG_FORMAT, onto the captured stderr; the lines written so far, on demand."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def configure_as(log_format: str | None):
        if log_format is None:
            monkeypatch.delenv("LOG_FORMAT", raising=False)
        else:
            monkeypatch.setenv("LOG_FORMAT", log_format)
        logs.configure_logging("DEBUG", "tasks_svc")
        return lambda: capsys.readouterr().err.splitlines()

    yield configure_as
    root.handlers[:], root.level = saved
    logs.name_service("")


def json_lines(read_lines) -> list[dict]:
    return [json.loads(line) for line in read_lines()]


def test_each_line_is_a_json_object_with_level_time_service_module_and_message(configure):
    read = configure("json")
    log.info("task %s created", 7)
    log.warning("second line\nwith a newline")
    first, second = json_lines(read)
    assert first["level"] == "INFO" and first["message"] == "task 7 created"
    assert first["service"] == "tasks_svc"
    assert first["module"] == "test_logs_json" and first["logger"] == "taskwire.test_logs"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert second["level"] == "WARNING" and second["message"] == "second line\nwith a newline"
    assert not {"request_id", "user_id", "event_id", "exc_info"} & set(first)


def test_a_line_logged_in_a_request_carries_its_request_id_and_the_signed_in_user(configure):
    read = configure("json")
    app = Flask(__name__)
    register_request_id(app, logging.getLogger("tasks_svc"))

    @app.get("/tasks/")
    def tasks():
        g.principal = Principal(user_id=42, username="ada", role="user", jti="j", issued_at=0, expires_at=0,
                                token_version=0)
        log.info("listing tasks")
        return {"results": []}

    app.test_client().get("/tasks/?token=secret-token", headers={"X-Request-ID": "req-123"})
    view_line, request_line = json_lines(read)
    assert view_line["message"] == "listing tasks"
    assert view_line["request_id"] == request_line["request_id"] == "req-123"
    assert view_line["user_id"] == request_line["user_id"] == 42
    assert "token=" in request_line["message"] and "secret-token" not in json.dumps(request_line)


def test_a_line_logged_while_a_worker_handles_an_event_carries_the_event_id(configure):
    read = configure("json")
    handle = one_at_a_time(lambda event: log.info("handling %s", event["type"]))
    handle([{"id": "ev-1", "type": "task.created"}, {"id": "ev-2", "type": "task.updated"}])
    log.info("between events")
    first, second, after = json_lines(read)
    assert (first["event_id"], second["event_id"]) == ("ev-1", "ev-2")
    assert "event_id" not in after


def test_an_exception_is_a_field_of_its_one_line(configure):
    read = configure("json")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("handling failed")
    (line,) = json_lines(read)
    assert line["level"] == "ERROR" and line["message"] == "handling failed"
    assert line["exc_info"].startswith("Traceback") and "ValueError: boom" in line["exc_info"]


def test_without_log_format_the_text_format_is_unchanged(configure):
    read = configure(None)
    log.info("task %s created", 7)
    (line,) = read()
    assert re.fullmatch(r"INFO \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} test_logs_json task 7 created", line)


@pytest.mark.parametrize("value", ["xml", "JSONL", "1"])
def test_an_unknown_log_format_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("LOG_FORMAT", value)
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        logs.configure_logging("DEBUG")


TINY_APP = '''
import logging

def app(environ, start_response):
    logging.getLogger("tinyapp").info("hello from the app")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


def free_port() -> int:
    """A port below 32768 (outside the kernel's range for client ports) and above the stacks' ports."""
    for port in random.sample(range(30000, 32768), 50):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    pytest.fail("no free port")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_gunicorn_with_our_configuration_logs_json_lines_master_and_worker(tmp_path):
    (tmp_path / "tinyapp.py").write_text(TINY_APP)
    port = free_port()
    env = {**os.environ, "LOG_FORMAT": "json", "WEB_CONCURRENCY": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:taskwire_common.gunicorn_conf", "--bind",
         f"127.0.0.1:{port}", "tinyapp:app"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/"), timeout=15, message="gunicorn to answer")
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        _, stderr = gunicorn.communicate(timeout=15)
    lines = [json.loads(line) for line in stderr.splitlines()]
    assert {line["service"] for line in lines} == {"tinyapp"}
    assert any(line["logger"] == "gunicorn.error" and "Listening at" in line["message"] for line in lines)
    assert any(line["logger"] == "tinyapp" and line["message"] == "hello from the app" for line in lines)


@pytest.mark.parametrize("status,elapsed_ms,level", [
    (200, 3.0, logging.DEBUG), (304, 3.0, logging.DEBUG), (201, 499.9, logging.DEBUG),
    (200, 500.0, logging.INFO), (400, 1.0, logging.INFO), (404, 1.0, logging.INFO), (503, 1.0, logging.INFO),
])
def test_a_request_line_is_info_when_it_failed_or_was_slow_and_debug_otherwise(status, elapsed_ms, level):
    assert request_line_level(status, elapsed_ms) == level


def test_at_info_a_quick_success_writes_no_request_line_and_a_failure_one(configure):
    read = configure("json")
    logging.getLogger().setLevel(logging.INFO)
    app = Flask(__name__)
    register_request_id(app, logging.getLogger("tasks_svc"))
    app.get("/ok/")(lambda: {"ok": True})
    client = app.test_client()
    client.get("/ok/", headers={"X-Request-ID": "quick"})
    client.get("/missing/", headers={"X-Request-ID": "failed"})
    assert [(line["level"], line["request_id"]) for line in json_lines(read)] == [("INFO", "failed")]
