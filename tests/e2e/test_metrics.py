"""Metrics through the gateway: a known workload moves the counters it should, by what it should."""
import http.client
import json

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support import wait_for

CREATES = 10


def scrape(gateway: str, service: str) -> dict[tuple[str, tuple], float]:
    response = requests.get(f"{gateway}/metrics/{service}", timeout=5)
    assert response.status_code == 200, response.text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and set(labels.items()) <= set(sample_labels))


def created_requests(gateway: str) -> float:
    return total(scrape(gateway, "tasks"), "taskwire_http_request_duration_seconds_count",
                 route="/api/tasks/", method="POST", status="201")


def test_task_creates_move_published_consumed_and_request_counters(gateway, admin_session):
    published = total(scrape(gateway, "tasks"), "taskwire_outbox_events_published_total", service="tasks_svc")
    consumed = total(scrape(gateway, "notifications"), "taskwire_events_consumed_total")
    requests_before = created_requests(gateway)

    for number in range(CREATES):
        response = admin_session.post(f"{gateway}/api/tasks/", json={"title": f"metrics {number}"}, timeout=10)
        assert response.status_code == 201, response.text

    assert created_requests(gateway) == requests_before + CREATES
    wait_for(lambda: total(scrape(gateway, "tasks"), "taskwire_outbox_events_published_total",
                           service="tasks_svc") >= published + CREATES,
             timeout=15, interval=0.2, message="tasks_svc's outbox publisher counting the 10 events")
    wait_for(lambda: total(scrape(gateway, "notifications"), "taskwire_events_consumed_total")
             >= consumed + CREATES, timeout=15, interval=0.2, message="notify_svc's worker counting the 10 events")


def test_the_outbox_gauges_are_read_when_scraped(gateway):
    samples = scrape(gateway, "tasks")
    assert ("taskwire_outbox_pending_events", ()) in samples
    assert samples[("taskwire_outbox_oldest_pending_age_seconds", ())] >= 0


def test_consumer_lag_counts_what_waits_while_the_worker_is_stopped(gateway, admin_session):
    """With notify_worker stopped, each task event waits in notify_svc.tasks: the gauge shows it, and the
    consumers gauge shows nobody; back to 0 waiting once the worker drains them."""
    from tests.e2e.support import supervisorctl, wait_until_healthy

    def lag():
        samples = scrape(gateway, "notifications")
        return (samples.get(("taskwire_queue_consumers", (("queue", "notify_svc.tasks"),))),
                samples.get(("taskwire_queue_messages_waiting", (("queue", "notify_svc.tasks"),))))

    supervisorctl("stop", "taskwire:notify_worker")
    try:
        wait_for(lambda: lag()[0] == 0, timeout=10, interval=0.2, message="no consumer counted")
        waiting = lag()[1]
        for number in range(3):
            assert admin_session.post(f"{gateway}/api/tasks/", json={"title": f"lag {number}"},
                                      timeout=10).status_code == 201
        wait_for(lambda: lag()[1] >= waiting + 3, timeout=15, interval=0.2, message="the 3 events waiting")
    finally:
        supervisorctl("start", "taskwire:notify_worker")
    wait_for(lambda: lag() == (1, 0), timeout=20, interval=0.2, message="the worker back and the queue drained")
    wait_until_healthy()


def test_every_service_answers_the_exposition_format_through_the_gateway(gateway):
    for service in ("users", "tasks", "notifications", "ws"):
        response = requests.get(f"{gateway}/metrics/{service}", timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert "# TYPE taskwire_http_request_duration_seconds histogram" in response.text


def test_an_unknown_metrics_path_is_a_json_404(gateway):
    response = requests.get(f"{gateway}/metrics/x", timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_an_address_not_allowed_gets_a_json_403(gateway):
    host, port = gateway.removeprefix("http://").split(":")
    # Linux routes all of 127.0.0.0/8 to lo: 127.0.0.9 is a client that METRICS_ALLOWED_ADDRESSES does not list.
    connection = http.client.HTTPConnection(host, int(port), timeout=5, source_address=("127.0.0.9", 0))
    try:
        connection.request("GET", "/metrics/tasks")
        response = connection.getresponse()
        assert response.status == 403
        assert response.getheader("Content-Type").startswith("application/problem+json")
        assert json.loads(response.read())["status"] == 403
    finally:
        connection.close()
