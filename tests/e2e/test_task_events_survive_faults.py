"""No committed task change loses its event, whether RabbitMQ, the relay or PostgreSQL goes down; the API says 503."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.infra import postgres, rabbitmq
from taskwire_common.contracts import TASK_CREATED
from tests.e2e.support import wait_until_healthy
from tests.support import wait_for


def created_task_ids(tap):
    return {e.task_id for e in tap.drain() if e.type == TASK_CREATED}


@pytest.fixture
def broker_restart(gateway):
    """Stop RabbitMQ's app and always start it again; the stack must recover by itself."""
    def stop():
        rabbitmq("stop")

    yield stop
    rabbitmq("start")
    wait_until_healthy()


def test_changes_made_while_the_broker_is_down_are_published_when_it_returns(
        gateway, admin_session, user, assign_to, task_tap, broker_restart):
    first = assign_to(user, title="before the outage")
    wait_for(lambda: first["id"] in created_task_ids(task_tap), message="the first event")

    broker_restart()
    ids = []
    for number in range(100):
        response = admin_session.post(f"{gateway}/api/tasks/", timeout=5, json={
            "title": f"during the outage {number}", "assigned_user": user.id})
        assert response.status_code == 201, response.text  # the API keeps answering
        ids.append(response.json()["id"])
    health = admin_session.get(f"{gateway}/healthz/tasks", timeout=5).json()
    assert health["checks"]["outbox"]["detail"]["pending"] >= 100

    rabbitmq("start")
    wait_for(lambda: set(ids) <= created_task_ids(task_tap), timeout=60, message="all 100 events")
    created = [e.task_id for e in task_tap.events if e.type == TASK_CREATED]
    assert created[1:] == ids  # in commit order, none twice


def test_while_postgresql_is_down_the_api_answers_503_and_recovers_by_itself(
        gateway, admin_session, user, assign_to, task_tap):
    assign_to(user)
    paths = ("/api/tasks/", "/api/notifications/", "/api/auth/me/")

    def busy(path):  # concurrent requests, so that every worker holds pooled connections
        with requests.Session() as session:
            session.headers.update(admin_session.headers)
            return [session.get(gateway + path, timeout=10).status_code for _ in range(20)]
    with ThreadPoolExecutor(12) as pool:
        assert set(sum(pool.map(busy, paths * 4), [])) == {200}
    postgres("stop")
    try:
        for path in paths:
            response = admin_session.get(gateway + path, timeout=10)
            assert response.status_code == 503, (path, response.status_code)
            assert response.headers["Content-Type"].startswith("application/problem+json")
    finally:
        postgres("start")

    # Once PostgreSQL is back, no request fails: pooled connections are checked before use, in every
    # worker.
    with ThreadPoolExecutor(12) as pool:
        assert set(sum(pool.map(busy, paths * 4), [])) == {200}
    response = admin_session.post(f"{gateway}/api/tasks/", json={"title": "after the restart",
                                                                 "assigned_user": user.id}, timeout=10)
    assert response.status_code == 201, response.text
    task = response.json()
    wait_for(lambda: task["id"] in created_task_ids(task_tap), timeout=30, message="its event published")
    wait_until_healthy()
