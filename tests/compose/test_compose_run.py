"""The whole system in containers (`make compose-test`): built here, started with its health gates, used through the
gateway, scaled, a service restarted, taken down.

Everything runs on images built from Debian's packages (docker-compose.local.yml; harness/compose.py). Clients
on this machine talk only to 127.0.0.1: the gateway and the RabbitMQ console are published there on ports of the
test's own. The tests run in order, on one project.
"""
from __future__ import annotations

import json
import os
import time
import uuid

import pytest
import requests

from harness import api
from harness.compose import Engine, Project, build_images, project_env
from harness.ws import LiveFeed
from stack.config import REPO
from tests.support import wait_for

GATEWAY_PORT, CONSOLE_PORT = 30800, 30672  # clear of every stack profile's ports
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"
ADMIN = ("compose-admin", "compose-admin-password-1")
PROJECT = "taskwire-compose-test"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def project():
    engine = Engine()
    engine.start()
    started = time.monotonic()
    steps = build_images()
    TIMINGS["build_s"] = time.monotonic() - started
    compose = Project(PROJECT, REPO / "var" / "compose-test.env", project_env(GATEWAY_PORT, CONSOLE_PORT))
    try:
        compose("down", "-v", "--remove-orphans")  # what an interrupted run left
        compose("run", "--rm", "--no-deps", "users_svc", "python", "-m", "users_svc.signing_keys", "rotate")
        started = time.monotonic()
        compose("up", "-d", "--no-build", "--wait", "--wait-timeout", "300")
        TIMINGS["up_until_healthy_s"] = time.monotonic() - started
        compose("exec", "-T", "users_svc", "flask", "--app", "users_svc.wsgi:app", "create-superuser",
                "--username", ADMIN[0], "--email", "compose-admin@example.com", "--password", ADMIN[1], "--no-input")
        print(json.dumps({"build_steps_s": {k: round(v, 1) for k, v in steps.items()},
                          **{k: round(v, 1) for k, v in TIMINGS.items()}}))
        yield compose
    finally:
        if os.environ.get("COMPOSE_TEST_KEEP") != "1":
            compose("down", "-v", "--remove-orphans")
        engine.stop()


@pytest.fixture(scope="module")
def people(project):
    admin = api.login(GATEWAY, *ADMIN)
    user = api.register(GATEWAY, "compose" + uuid.uuid4().hex[:8], "password-of-a-compose-user")
    return admin, user


def create_assigned(admin: dict, user_id: int, title: str) -> dict:
    """Create a task assigned to the user, once tasks_svc knows the user (from users_svc's event)."""
    def created():
        response = requests.post(f"{GATEWAY}/api/tasks/", headers=api.bearer(admin["token"]), timeout=10,
                                 json={"title": title, "assigned_user": user_id})
        return response.json() if response.status_code == 201 else None
    return wait_for(created, timeout=30, interval=0.3, message=f"user {user_id} known to tasks_svc")


def notified_of(user: api.Person, task_ids: set[int]) -> bool:
    seen = {n["task_id"] for page in api.notification_pages(GATEWAY, user.token) for n in page}
    return task_ids <= seen


def test_a_change_goes_from_the_gateway_to_a_notification_and_a_socket(project, people):
    admin, user = people
    socket = LiveFeed(GATEWAY, user.token, suppress_origin=True)
    try:
        task = create_assigned(admin, user.id, "in a container")
        listed = requests.get(f"{GATEWAY}/api/tasks/", headers=api.bearer(user.token), timeout=10).json()
        assert task["id"] in [t["id"] for t in listed]
        wait_for(lambda: notified_of(user, {task["id"]}), timeout=30, message="the assignee's notification")
        wait_for(lambda: any(m.get("task", {}).get("id") == task["id"] for m in socket.of_type("task_update")),
                 timeout=30, message="the task's event on the assignee's socket")
    finally:
        socket.close()
    env = project.values
    console = requests.get(f"http://127.0.0.1:{CONSOLE_PORT}/api/overview", timeout=10,
                           auth=(env["RABBITMQ_USER"], env["RABBITMQ_PASSWORD"]))
    assert console.status_code == 200 and console.json()["cluster_name"]


def test_scaled_services_share_the_requests_and_every_socket_gets_its_events(project, people):
    admin, user = people
    project("up", "-d", "--no-build", "--wait", "--wait-timeout", "300", "--scale", "tasks_svc=2",
            "--scale", "ws_relay=2")
    assert len(project.containers("tasks_svc")) == 2 and len(project.containers("ws_relay")) == 2

    # The gateway asks Docker's DNS again every 10 s: requests reach both replicas within a while. Each replica
    # counts what it answered (its /metrics, read from inside its container: only 127.0.0.1 may).
    def both_served() -> bool:
        for _ in range(20):
            requests.get(f"{GATEWAY}/api/tasks/", headers=api.bearer(user.token), timeout=10).raise_for_status()
        return all(task_lists_answered(project, index) > 0 for index in (1, 2))
    wait_for(both_served, timeout=60, interval=1, message="requests answered by both tasks_svc replicas")

    sockets = [LiveFeed(GATEWAY, admin["token"], suppress_origin=True) for _ in range(8)]
    try:
        tasks = [create_assigned(admin, user.id, f"scaled {number}") for number in range(3)]
        wanted = {t["id"] for t in tasks}
        for socket in sockets:
            wait_for(lambda feed=socket: wanted <= {m["task"]["id"] for m in feed.of_type("task_update")},
                     timeout=30, message="every event on every admin socket")
        held = [relay_sockets(project, index) for index in (1, 2)]
        assert sum(held) >= len(sockets) and all(count > 0 for count in held), f"sockets per relay: {held}"
    finally:
        for socket in sockets:
            socket.close()


def inside(project: Project, service: str, index: int, url: str) -> str:
    """GET a URL from inside one replica of a service."""
    return project("exec", "-T", "--index", str(index), service, "python", "-c",
                   f"import urllib.request; print(urllib.request.urlopen({url!r}).read().decode())")


def relay_sockets(project: Project, index: int) -> float:
    """Sockets open in one relay replica, all its gunicorn workers together (its /metrics)."""
    metrics = inside(project, "ws_relay", index, "http://127.0.0.1:8004/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("taskwire_ws_open_sockets"))


def task_lists_answered(project: Project, index: int) -> float:
    metrics = inside(project, "tasks_svc", index, "http://127.0.0.1:8002/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith('taskwire_http_request_duration_seconds_count{method="GET",route="/api/tasks/"'))


def test_a_restarted_worker_and_publisher_lose_nothing(project, people):
    admin, user = people
    before = [create_assigned(admin, user.id, f"before the restart {number}") for number in range(5)]
    project("restart", "notify_worker", "tasks_outbox")
    after = [create_assigned(admin, user.id, f"after the restart {number}") for number in range(5)]
    wanted = {t["id"] for t in before + after}
    wait_for(lambda: notified_of(user, wanted), timeout=60, message="every notification after the restart")
    notifications = [n for page in api.notification_pages(GATEWAY, user.token) for n in page
                     if n["task_id"] in wanted]
    assert len(notifications) == len(wanted), "one notification per task"
