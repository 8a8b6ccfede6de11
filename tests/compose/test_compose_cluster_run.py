"""docker-compose.cluster.yml in containers (`make compose-test`): three RabbitMQ nodes that form one cluster by
themselves, every queue and the feed stream on all three, and a node killed without the system noticing.

Run on the images built here (docker-compose.cluster-local.yml over docker-compose.local.yml).
"""
from __future__ import annotations

import os
import time
import uuid

import pytest
import requests

from harness import api
from harness.compose import CLUSTER_FILES, Engine, Project, build_images, project_env
from harness.ws import LiveFeed
from stack.config import REPO
from tests.support import wait_for

GATEWAY_PORT, CONSOLE_PORT = 30801, 30673  # clear of every stack profile's ports, and of test_compose_run's
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"
ADMIN = ("cluster-admin", "cluster-admin-password-1")
NODES = ["rabbitmq", "rabbitmq-b", "rabbitmq-c"]


@pytest.fixture(scope="module")
def project():
    engine = Engine()
    engine.start()
    build_images()
    compose = Project("taskwire-compose-cluster-test", REPO / "var" / "compose-cluster-test.env",
                      project_env(GATEWAY_PORT, CONSOLE_PORT), CLUSTER_FILES)
    try:
        compose("down", "-v", "--remove-orphans")
        compose("run", "--rm", "--no-deps", "users_svc", "python", "-m", "users_svc.signing_keys", "rotate")
        compose("up", "-d", "--no-build", "--wait", "--wait-timeout", "300")
        compose("exec", "-T", "users_svc", "flask", "--app", "users_svc.wsgi:app", "create-superuser",
                "--username", ADMIN[0], "--email", "cluster-admin@example.com", "--password", ADMIN[1], "--no-input")
        yield compose
    finally:
        if os.environ.get("COMPOSE_TEST_KEEP") != "1":
            compose("down", "-v", "--remove-orphans")
        engine.stop()


def ctl(project: Project, node: str, *args: str) -> str:
    return project("exec", "-T", node, "rabbitmqctl", "-q", *args)


def test_the_three_nodes_form_one_cluster_and_every_queue_has_a_member_on_each(project):
    status = ctl(project, "rabbitmq-c", "cluster_status")
    assert all(f"rabbit@{node}" in status for node in NODES)
    rows = ctl(project, "rabbitmq", "list_queues", "name", "type", "members", "--no-table-headers")
    replicated = {line.split("\t")[0]: line.split("\t")[2] for line in rows.splitlines()
                  if line.split("\t")[1] in ("quorum", "stream")}
    assert {"notify_svc.tasks", "tasks_svc.users", "taskwire.dead-letter", "taskwire.feed"} <= set(replicated)
    for queue, members in replicated.items():
        assert all(f"rabbit@{node}" in members for node in NODES), (queue, members)


def test_killing_the_node_the_services_use_first_goes_unnoticed(project):
    admin = api.login(GATEWAY, *ADMIN)
    socket = LiveFeed(GATEWAY, admin["token"], suppress_origin=True)
    try:
        project("kill", "rabbitmq")  # SIGKILL: the first of every service's AMQP_URLS; its name stops resolving
        killed = time.monotonic()
        user = api.register(GATEWAY, "cluster" + uuid.uuid4().hex[:8], "password-of-a-cluster-user")

        def assigned():
            response = requests.post(f"{GATEWAY}/api/tasks/", headers=api.bearer(admin["token"]), timeout=10,
                                     json={"title": "after a node died", "assigned_user": user.id})
            return response.json() if response.status_code == 201 else None
        task = wait_for(assigned, timeout=30, interval=0.2, message="the new user known to tasks_svc")

        def notified() -> bool:
            return any(n["task_id"] == task["id"] for page in api.notification_pages(GATEWAY, user.token)
                       for n in page)
        wait_for(notified, timeout=30, interval=0.2, message="the assignee's notification")
        wait_for(lambda: any(m["task"]["id"] == task["id"] for m in socket.of_type("task_update")), timeout=30,
                 message="the task's event on the admin's socket")
        print(f"user, task, notification and socket event {time.monotonic() - killed:.2f} s after the kill")
    finally:
        socket.close()
    project("start", "rabbitmq")
    wait_for(lambda: "rabbit@rabbitmq" in ctl(project, "rabbitmq-b", "cluster_status").split("Running Nodes")[1],
             timeout=120, interval=1, message="the killed node running in the cluster again")
