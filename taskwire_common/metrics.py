"""Prometheus metrics of every Taskwire process, and the /metrics view that serves a service's (docs/metrics.md).

prometheus_client's multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set (the stack gives each
service one directory, shared by its gunicorn workers, its outbox publisher and its worker) every
process writes its values to files there, and a scrape of any one worker sums them all. Without
it (unit tests) each process serves its own values.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from flask import Flask, Response, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from .settings import ConfigurationError

if TYPE_CHECKING:
    from .outbox import OutboxLag
    from .queue_health import QueueHealth

log = logging.getLogger(__name__)

# Any other method (a client may send any token) is counted as "other", so that labels stay few.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STARTED = "taskwire.metrics.started"  # the request's start (perf_counter), in the WSGI environ

HTTP_REQUEST_DURATION = Histogram(
    "taskwire_http_request_duration_seconds", "Time to answer an HTTP request, by route template, method, status.",
    ["route", "method", "status"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS_PUBLISHED = Counter("taskwire_outbox_events_published", "Outbox events the broker confirmed.", ["service"])
EVENTS_CONSUMED = Counter("taskwire_events_consumed", "Events handled and acknowledged, by queue.", ["queue"])
EVENTS_FAILED = Counter("taskwire_events_failed",
                        "Events whose handling failed and that went back to the queue (nacked), by queue.", ["queue"])
EVENTS_DEAD_LETTERED = Counter("taskwire_events_dead_lettered",
                               "Malformed messages rejected to the dead-letter queue, by queue.", ["queue"])
WS_OPEN_SOCKETS = Gauge("taskwire_ws_open_sockets", "WebSockets open in the relay's live processes.",
                        multiprocess_mode="livesum")
WS_MESSAGES_SENT = Counter("taskwire_ws_messages_sent", "Messages written to WebSockets.")
WS_SLOW_SOCKETS_DROPPED = Counter("taskwire_ws_slow_sockets_dropped",
                                  "Sockets closed (1013) for not keeping up, by reason.", ["reason"])
WS_SOCKETS_REFUSED = Counter("taskwire_ws_sockets_refused",
                             "Handshakes closed (4429) because the user held WS_MAX_SOCKETS_PER_USER sockets already.")
WS_REPLAYS = Counter("taskwire_ws_replays",
                     "Resuming sockets, by where their missed messages came from (or resync_required).", ["source"])
LOGIN_FAILURES = Counter("taskwire_login_failures", "Sign-ins refused for a wrong username or password.")
LOGINS_THROTTLED = Counter("taskwire_logins_throttled", "Sign-ins refused (429) by the login throttle.")

class OutboxCollector(Collector):
    """The outbox's pending rows and the age of the oldest, read from the database when scraped."""

    def __init__(self, read_lag: Callable[[], OutboxLag]):
        self.read_lag = read_lag

    def collect(self) -> Iterator[Metric]:
        try:
            lag = self.read_lag()
        except SQLAlchemyError as error:  # the rest of the scrape is still worth having
            log.warning("outbox metrics left out: %s", type(error).__name__)
            return
        yield GaugeMetricFamily("taskwire_outbox_pending_events", "Outbox events not yet published.",
                                value=lag["pending"])
        yield GaugeMetricFamily("taskwire_outbox_oldest_pending_age_seconds",
                                "Age of the oldest unpublished outbox event (0 when none).",
                                value=lag["oldest_pending_age_seconds"])


class QueueCollector(Collector):
    """Consumer lag: the messages waiting in the service's work queue and its consumers, as RabbitMQ counts them
    (the /healthz worker check's answer, asked at most every 2 s)."""

    def __init__(self, health: QueueHealth):
        self.health = health

    def collect(self) -> Iterator[Metric]:
        self.health()
        if self.health.counts is None:  # the broker could not be asked: left out, as the outbox's are
            return
        consumers, waiting = self.health.counts
        for name, text, value in (
                ("taskwire_queue_messages_waiting", "Messages waiting in the service's work queue (consumer lag).",
                 waiting),
                ("taskwire_queue_consumers", "Consumers of the service's work queue (0: its worker is down).",
                 consumers)):
            family = GaugeMetricFamily(name, text, labels=["queue"])
            family.add_metric([self.health.queue], value)
            yield family


class ThisProcess(Collector):
    """The metrics of this process alone, when there is no multiprocess directory."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(extra: list[Collector]) -> CollectorRegistry:
    """A registry for one scrape: every process's files (or this process's values), then `extra`."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated in prometheus_client 0.26
    else:
        registry.register(ThisProcess())
    for collector in extra:
        registry.register(collector)
    return registry


def serve_process_metrics(listen: str) -> WSGIServer | None:
    """Serve this process's metrics (every process's, in multiprocess mode) at http://<listen>/metrics from a
    thread: for a worker or outbox publisher with no web service beside it (METRICS_LISTEN, compose)."""
    if not listen:
        return None
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigurationError(f"METRICS_LISTEN: {listen!r} is not host:port")
    server, _thread = start_http_server(int(port), addr=host, registry=scrape_registry([]))
    log.info("metrics served on http://%s/metrics", listen)
    return server


def register_metrics(app: Flask, outbox_lag: Callable[[], OutboxLag] | None = None,
                     worker_queue: QueueHealth | None = None) -> None:
    """Time every request by route template, and serve GET /metrics (with the outbox's lag, given a reader, and
    the lag of the worker's queue, given its health check)."""
    extra: list[Collector] = [OutboxCollector(outbox_lag)] if outbox_lag else []
    if worker_queue is not None:
        extra.append(QueueCollector(worker_queue))

    @app.before_request
    def start_timer() -> None:
        request.environ[STARTED] = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = request.environ.get(STARTED)
        # A WebSocket's "request" lasts as long as the socket: not a latency.
        if started is not None and request.headers.get("Upgrade", "").lower() != "websocket":
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            method = request.method if request.method in METHODS else "other"
            HTTP_REQUEST_DURATION.labels(route, method, str(response.status_code)).observe(
                time.perf_counter() - started)
        return response

    def metrics() -> Response:
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encode(scrape_registry(extra)), headers={"Content-Type": content_type})

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
