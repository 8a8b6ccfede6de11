"""Health that tells the truth: /healthz/notifications is 503 while nobody turns task events into notifications,
and 200 again once the worker is back; the gateway's /healthz says the same of the whole system; /livez answers
whenever the process does."""
import requests

from tests.e2e.support import PROFILE, supervisorctl, wait_until_healthy
from tests.support import wait_for


def health(gateway, name):
    response = requests.get(f"{gateway}/healthz/{name}", timeout=5)
    return response.status_code, response.json()


def system_health(gateway):
    response = requests.get(f"{gateway}/healthz", timeout=10)
    return response.status_code, response.json()


def test_notifications_are_unhealthy_while_their_worker_is_down_and_healthy_once_it_is_back(gateway):
    assert health(gateway, "notifications")[0] == 200
    supervisorctl("stop", "taskwire:notify_worker")
    try:
        status, body = wait_for(lambda: (answer := health(gateway, "notifications"))[0] == 503 and answer,
                                timeout=10, message="/healthz/notifications reporting the stopped worker")
        assert "worker is down" in body["checks"]["worker"]["detail"]
        assert body["checks"]["database"]["ok"]  # the rest of the service is fine, and says so
        # Each notify_svc process asks the broker at most every 2 s, and the round is kept a second: poll.
        status, system = wait_for(lambda: (answer := system_health(gateway))[0] == 503 and answer, timeout=10,
                                  message="the gateway's /healthz reporting the stopped worker")
        assert system["status"] == "unavailable"
        assert system["services"]["notifications"]["checks"]["worker"]["ok"] is False
        assert system["services"]["tasks"]["status"] == "ok"
    finally:
        supervisorctl("start", "taskwire:notify_worker")
    wait_for(lambda: health(gateway, "notifications")[0] == 200, timeout=20, message="healthy again")
    wait_for(lambda: system_health(gateway)[0] == 200, timeout=10, message="the gateway's /healthz ready again")
    wait_until_healthy()


def test_the_gateways_healthz_reports_every_service_ready(gateway):
    status, body = system_health(gateway)
    assert status == 200 and body["status"] == "ok"
    assert {name: report["status"] for name, report in body["services"].items()} == {
        "users": "ok", "tasks": "ok", "notifications": "ok", "ws": "ok"}


def test_the_gateways_healthz_says_so_when_users_svc_itself_is_down(gateway):
    supervisorctl("stop", "taskwire:users_svc")
    try:
        response = requests.get(f"{gateway}/healthz", timeout=10)
        assert response.status_code == 503
        assert response.json()["services"]["users"]["status"] == "unreachable"
    finally:
        supervisorctl("start", "taskwire:users_svc")
    wait_until_healthy()


def test_tasks_health_watches_its_directory_worker(gateway):
    status, body = health(gateway, "tasks")
    assert status == 200 and body["checks"]["worker"]["ok"] and body["checks"]["worker"]["detail"]["consumers"] >= 1


def test_every_service_answers_livez_without_checking_anything():
    for name in ("users_svc", "tasks_svc", "notify_svc", "ws_relay"):
        response = requests.get(f"http://127.0.0.1:{PROFILE.process(name).port}/livez", timeout=5)
        assert response.status_code == 200 and response.json()["status"] == "alive", name
