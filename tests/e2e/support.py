"""What the end-to-end tests share besides fixtures: the stack they run against and helpers on it."""
import os

import requests
from requests.adapters import HTTPAdapter

from harness import amqp, api
from harness.stack_runner import StackRunner, without_stack_settings
from stack.config import REPO, load_profile
from tests.support import wait_for

__all__ = ["ADMIN_EMAIL", "PROFILE", "REPO", "STACK", "amqp_channel", "api_notification_ids", "log_in",
           "queue_backlog", "supervisorctl", "task_tap_url", "wait_until_healthy"]

# `make test` uses the test profile; E2E_PROFILE lets a developer point these tests at another one.
PROFILE = load_profile(os.environ.get("E2E_PROFILE", "test"))
# The test stack must not inherit settings that other test layers put in os.environ.
STACK = StackRunner(PROFILE, environ=without_stack_settings(os.environ))
ADMIN_EMAIL = "e2e-admin@example.com"


def log_in(gateway: str, username: str, password: str) -> dict:
    response = api.login_response(gateway, username, password, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def supervisorctl(*args: str) -> str:
    return STACK.supervisorctl(*args)


def wait_until_healthy(timeout: float = 60) -> None:
    """Every service of the stack under test healthy through its gateway again."""
    wait_for(lambda: api.healthy(PROFILE), timeout=timeout, interval=0.2, message="every service healthy again")


def task_tap_url() -> str:
    return amqp.amqp_url(PROFILE)


def queue_backlog(queue: str = "notify_svc.tasks") -> int:
    """Messages ready or in flight on one of the test vhost's queues."""
    return amqp.queue_messages(PROFILE, queue)


def amqp_channel():
    """A channel on the test vhost, on a connection of its own."""
    return amqp.amqp_channel(amqp.amqp_url(PROFILE))


def api_notification_ids(gateway: str, token: str, task_ids: set[int]) -> set[int]:
    """Ids of a user's notifications about these tasks, as the API lists them."""
    return {n["id"] for page in api.notification_pages(gateway, token, timeout=5) for n in page
            if n["task_id"] in task_ids}


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one local address (all of 127.0.0.0/8 is this machine): a client the services tell
    apart from the suite's others, which connect from 127.0.0.1."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A requests session whose HTTP connections come from `address`."""
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(address))
    return session
