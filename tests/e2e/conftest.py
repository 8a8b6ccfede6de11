"""End-to-end fixtures: the whole test-profile stack, started once per session."""
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
GATEWAY_URL = "http://127.0.0.1:18000"
# The test stack must not inherit settings that other test layers put in os.environ.
STACK_SETTINGS = (
    "TASKWIRE_ENV", "LOG_LEVEL", "DATABASE_URL", "AMQP_URL", "JWT_SECRET_KEY",
    "USERS_SERVICE_URL", "WEB_CONCURRENCY", "LOGIN_MAX_FAILURES",
    "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_THROTTLE_SECONDS", "REGISTRATION_OPEN",
)


def _stack(command: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in STACK_SETTINGS}
    subprocess.run([sys.executable, "-m", "stack", command, "--profile", "test", *args],
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
def user(gateway, unique_name):
    """A freshly registered user, signed in: id, username, password, token."""
    password = "password-" + unique_name
    response = requests.post(f"{gateway}/api/auth/register/", timeout=10, json={
        "username": unique_name, "email": f"{unique_name}@example.com", "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    return SimpleNamespace(id=body["user"]["id"], username=unique_name, password=password, token=body["token"])
