"""End-to-end fixtures: the whole test-profile stack, started once per session."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from chaos import observers
from stack import commands
from stack.config import OVERRIDABLE, load_profile
from tests.support import wait_for

REPO = Path(__file__).resolve().parents[2]
# `make test` uses the test profile; E2E_PROFILE lets a developer point these tests at another one.
PROFILE = load_profile(os.environ.get("E2E_PROFILE", "test"))
GATEWAY_URL = PROFILE.gateway_url
# The test stack must not inherit settings that other test layers put in os.environ.
STACK_SETTINGS = (*OVERRIDABLE, "DATABASE_URL")


def _stack(command: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in STACK_SETTINGS}
    subprocess.run([sys.executable, "-m", "stack", command, "--profile", PROFILE.name, *args],
                   cwd=REPO, env=env, check=True)


@pytest.fixture(scope="session", autouse=True)
def test_stack():
    """Start the test stack (blocks until healthy through the gateway); always stop it."""
    try:
        _stack("start")
        yield GATEWAY_URL
    finally:
        _stack("stop")


@pytest.fixture(scope="session")
def gateway(test_stack):
    """Base URL of the test stack's gateway."""
    return test_stack


ADMIN = SimpleNamespace(username="e2e-admin", password="e2e-admin-password", email="e2e-admin@example.com")


@pytest.fixture(scope="session")
def admin(test_stack):
    """An admin made the way a newcomer makes one: the create-superuser CLI (idempotent)."""
    _stack("run", "users_svc", "--", "flask", "--app", "users_svc.wsgi:app", "create-superuser",
           "--username", ADMIN.username, "--password", ADMIN.password, "--email", ADMIN.email, "--no-input")
    return ADMIN


def log_in(gateway, username, password):
    response = requests.post(f"{gateway}/api/auth/login/", json={"username": username, "password": password},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def admin_session(gateway, admin):
    """A requests session carrying a fresh admin token."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + log_in(gateway, admin.username, admin.password)["token"]
    yield session
    session.close()


@pytest.fixture
def unique_name():
    return "u" + uuid.uuid4().hex[:12]


@pytest.fixture
def register(gateway):
    """Sign up new users through the gateway: each has id, username, password and token."""
    def sign_up():
        name = "u" + uuid.uuid4().hex[:12]
        password = "password-" + name
        response = requests.post(f"{gateway}/api/auth/register/", timeout=10, json={
            "username": name, "email": f"{name}@example.com", "password": password})
        assert response.status_code == 201, response.text
        body = response.json()
        return SimpleNamespace(id=body["user"]["id"], username=name, password=password, token=body["token"])
    return sign_up


@pytest.fixture
def user(register):
    """A freshly registered user, signed in."""
    return register()


AMQP_TEST_URL = f"amqp://guest:guest@127.0.0.1:5672/{PROFILE.amqp_vhost}"


def amqp_channel():
    return observers.amqp_channel(AMQP_TEST_URL)


@pytest.fixture
def task_tap(test_stack):
    tap = observers.Tap(AMQP_TEST_URL)  # a quorum queue: it survives a broker restart, as consumers do
    yield tap
    tap.delete()


def supervisorctl(*args: str) -> str:
    return commands.supervisorctl(PROFILE, *args)


def wait_until_healthy(gateway, timeout=60):
    def healthy():
        try:
            return all(requests.get(f"{gateway}/healthz/{name}", timeout=2).status_code == 200
                       for name in ("users", "tasks", "notifications", "ws"))
        except requests.RequestException:
            return False
    wait_for(healthy, timeout=timeout, interval=0.2, message="every service healthy again")


@pytest.fixture
def assign_to(gateway, admin_session):
    """Create a task for a user as the admin, once tasks_svc's directory has learnt of that user."""
    def create(user, **fields):
        def attempt():
            response = admin_session.post(f"{gateway}/api/tasks/", timeout=5,
                                          json={"title": "Fix login", **fields, "assigned_user": user.id})
            assert response.status_code in (201, 400), response.text
            return response.json() if response.status_code == 201 else None
        return wait_for(attempt, timeout=5, interval=0.05, message=f"user {user.id} known to tasks_svc")
    return create


class LiveFeed:
    """A WebSocket client that reads everything in a background thread, as a browser would."""

    def __init__(self, gateway, token, path="/ws/tasks/", **options):
        import threading

        import websocket

        url = gateway.replace("http://", "ws://") + path + (f"?token={token}" if token else "")
        self.ws = websocket.create_connection(url, timeout=10, **options)
        self.ws.settimeout(None)
        self.messages, self.pings, self.close_code = [], 0, None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        import websocket

        while True:
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except (websocket.WebSocketException, OSError):
                return
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self.messages.append(json.loads(data))
            elif opcode == websocket.ABNF.OPCODE_PING:
                self.pings += 1
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                self.close_code = int.from_bytes(data[:2], "big") if data else 1005
                return

    def of_type(self, kind):
        return [m for m in self.messages if m["type"] == kind]

    @property
    def closed(self):
        return not self._reader.is_alive()

    def close(self):
        try:
            self.ws.close()
        except OSError:
            pass


@pytest.fixture
def open_feed(gateway):
    feeds = []

    def open_(token, path="/ws/tasks/", **options):
        feed = LiveFeed(gateway, token, path, **options)
        feeds.append(feed)
        return feed

    yield open_
    for feed in feeds:
        feed.close()
