"""End-to-end fixtures: the whole test-profile stack, started once per session."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GATEWAY_URL = "http://127.0.0.1:18000"
# The test stack must not inherit settings that other test layers put in os.environ.
STACK_SETTINGS = (
    "TASKWIRE_ENV", "LOG_LEVEL", "DATABASE_URL", "AMQP_URL", "JWT_SECRET_KEY",
    "USERS_SERVICE_URL", "WEB_CONCURRENCY", "LOGIN_MAX_FAILURES",
    "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_THROTTLE_SECONDS", "REGISTRATION_OPEN",
)


def _stack(command: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in STACK_SETTINGS}
    subprocess.run([sys.executable, "-m", "stack", command, "--profile", "test"],
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
