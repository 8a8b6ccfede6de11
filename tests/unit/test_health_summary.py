"""The gateway's /healthz: every service's readiness gathered into one answer (taskwire_common/health_summary.py)."""
import threading

import pytest
import requests
from flask import Flask

from stack.config import health_peers, load_profile
from taskwire_common.health_summary import (
    REUSE_SECONDS,
    SystemHealth,
    fetch_health,
    parse_peers,
    register_system_health,
)
from taskwire_common.settings import ConfigurationError

READY = ({"service": "x", "status": "ok", "checks": {}}, True)
DOWN = ({"service": "x", "status": "unavailable", "checks": {"database": {"ok": False, "detail": "down"}}}, False)


class Peers:
    """Fake peers: each name's report, and how many times each was asked."""

    def __init__(self, **reports):
        self.reports = reports
        self.asked: dict[str, int] = {}

    def fetch(self, url):
        name = url.rsplit("/", 1)[-1]
        self.asked[name] = self.asked.get(name, 0) + 1
        return self.reports[name]


def system(peers: Peers, own=READY, clock=lambda: 0.0):
    return SystemHealth("users", lambda: own, {name: f"http://peer/{name}" for name in peers.reports},
                        fetch=peers.fetch, clock=clock)


def test_all_services_ready_is_ready_with_each_report():
    body, ready = system(Peers(tasks=READY, ws=READY)).report()
    assert ready and body["status"] == "ok"
    assert set(body["services"]) == {"users", "tasks", "ws"}


def test_one_service_not_ready_makes_the_whole_unavailable_and_names_it():
    body, ready = system(Peers(tasks=READY, notifications=DOWN)).report()
    assert not ready and body["status"] == "unavailable"
    assert body["services"]["notifications"]["checks"]["database"]["detail"] == "down"


def test_its_own_failure_counts_too():
    _, ready = system(Peers(tasks=READY), own=DOWN).report()
    assert not ready


def test_a_round_is_reused_for_a_second_so_a_flood_costs_the_peers_little():
    now = [100.0]
    peers = Peers(tasks=READY)
    health = system(peers, clock=lambda: now[0])
    for _ in range(50):
        health.report()
    assert peers.asked == {"tasks": 1}
    now[0] += REUSE_SECONDS
    health.report()
    assert peers.asked == {"tasks": 2}


def test_peers_are_asked_at_the_same_time_not_one_after_another():
    barrier = threading.Barrier(3, timeout=5)

    def fetch(url):
        barrier.wait()  # breaks (raises) unless all three peers are being asked at once
        return READY

    health = SystemHealth("users", lambda: READY, {"a": "http://a", "b": "http://b", "c": "http://c"}, fetch=fetch)
    assert health.report()[1]


def test_an_unreachable_peer_is_reported_unreachable():
    body, ready = fetch_health("http://127.0.0.1:9")  # port 9 (discard): nobody listens
    assert not ready and body["status"] == "unreachable"


def test_a_peer_answering_without_a_report_is_unreachable(monkeypatch):
    class NotJson:
        status_code = 502

        def json(self):
            raise ValueError("no JSON")

    monkeypatch.setattr(requests, "get", lambda *args, **kwargs: NotJson())
    body, ready = fetch_health("http://peer")
    assert not ready and body == {"status": "unreachable", "detail": "ValueError"}


def test_the_route_answers_503_with_the_reports_when_one_is_down():
    app = Flask(__name__)
    app.extensions["taskwire.health"] = lambda: READY
    register_system_health(app, "users", {"tasks": "http://127.0.0.1:9"})  # port 9: nobody listens
    response = app.test_client().get("/healthz/all")
    assert response.status_code == 503
    assert response.json["services"]["tasks"]["status"] == "unreachable"
    assert response.json["services"]["users"]["status"] == "ok"


def test_health_peers_parse_and_refuse_a_malformed_entry():
    assert parse_peers("tasks=http://h:1/, ws=http://h:2") == {"tasks": "http://h:1", "ws": "http://h:2"}
    assert parse_peers("") == {}
    with pytest.raises(ConfigurationError, match="HEALTH_PEERS"):
        parse_peers("tasks=h:1")


def test_the_local_stack_names_every_other_checked_process():
    profile = load_profile("test")
    peers = parse_peers(health_peers(profile, profile.process("users_svc")))
    assert set(peers) == {"tasks", "notifications", "ws"}
    assert peers["tasks"] == f"http://127.0.0.1:{profile.process('tasks_svc').port}"

