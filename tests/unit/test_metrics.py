"""taskwire_common.metrics: what one scrape of a service shows, summed over its processes (multiprocess mode)."""
import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from taskwire_common.metrics import EVENTS_CONSUMED, OutboxCollector, register_metrics, serve_process_metrics
from taskwire_common.settings import ConfigurationError

REPO = Path(__file__).resolve().parents[2]

# A "worker" of a service: an app with the metrics hooks, answering requests, and a consumer's counter.
WORKER = textwrap.dedent("""
    from flask import Flask
    from taskwire_common.metrics import EVENTS_CONSUMED, WS_OPEN_SOCKETS, register_metrics

    app = Flask("worker")
    register_metrics(app)
    app.add_url_rule("/things/<int:thing_id>", "thing", lambda thing_id: "ok")
    client = app.test_client()
    client.get("/things/1")
    client.get("/things/2")
    client.get("/nowhere")
    client.open("/things/3", method="BREW")
    EVENTS_CONSUMED.labels("some.queue").inc(5)
    WS_OPEN_SOCKETS.inc()
    print(__import__("os").getpid())
""")


def run_worker(directory: Path) -> int:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=REPO, capture_output=True, text=True,
                          check=True, timeout=60)
    return int(done.stdout.strip())


def scrape(directory: Path) -> dict[tuple[str, tuple], float]:
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for metric in registry.collect() for sample in metric.samples}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("metrics")
    pids = [run_worker(directory), run_worker(directory)]
    return directory, pids


def test_one_scrape_sums_every_process_of_the_service(two_workers):
    directory, _ = two_workers
    samples = scrape(directory)
    labels = (("method", "GET"), ("route", "/things/<int:thing_id>"), ("status", "200"))
    assert samples[("taskwire_http_request_duration_seconds_count", labels)] == 4
    assert samples[("taskwire_events_consumed_total", (("queue", "some.queue"),))] == 10


def test_requests_are_labelled_by_route_template_not_by_path(two_workers):
    directory, _ = two_workers
    routes = {dict(labels)["route"] for name, labels in scrape(directory)
              if name == "taskwire_http_request_duration_seconds_count"}
    assert routes == {"/things/<int:thing_id>", "unmatched"}


def test_an_unknown_method_is_counted_as_other(two_workers):
    directory, _ = two_workers
    methods = {dict(labels)["method"] for name, labels in scrape(directory)
               if name == "taskwire_http_request_duration_seconds_count"}
    assert methods == {"GET", "other"}


def test_open_sockets_of_a_dead_worker_leave_the_sum(tmp_path):
    pids = [run_worker(tmp_path), run_worker(tmp_path)]
    assert scrape(tmp_path)[("taskwire_ws_open_sockets", ())] == 2
    mark_process_dead(pids[0], str(tmp_path))  # what gunicorn_conf.child_exit does
    assert scrape(tmp_path)[("taskwire_ws_open_sockets", ())] == 1


def test_metrics_answers_the_text_exposition_format():
    app = Flask(__name__)
    register_metrics(app, outbox_lag=lambda: {"pending": 3, "oldest_pending_age_seconds": 1.5})
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert families["taskwire_outbox_pending_events"].samples[0].value == 3
    assert families["taskwire_outbox_oldest_pending_age_seconds"].samples[0].value == 1.5
    assert "taskwire_http_request_duration_seconds" in families


def test_a_database_that_cannot_be_read_leaves_out_the_outbox_gauges_only():
    def unreadable():
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    assert list(OutboxCollector(unreadable).collect()) == []


def test_a_worker_without_a_web_service_serves_its_own_metrics_where_metrics_listen_says():
    EVENTS_CONSUMED.labels("served.queue").inc(3)
    server = serve_process_metrics("127.0.0.1:0")  # port 0: any free one
    assert server is not None
    try:
        port = server.server_address[1]
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
        server.server_close()
    consumed = {sample.labels["queue"]: sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples if sample.name == "taskwire_events_consumed_total"}
    assert consumed["served.queue"] >= 3


def test_metrics_listen_unset_serves_nothing_and_a_malformed_one_stops_the_process():
    assert serve_process_metrics("") is None
    with pytest.raises(ConfigurationError, match="METRICS_LISTEN"):
        serve_process_metrics("9100")
