"""The outbox publisher: publishes committed outbox rows to RabbitMQ, in order, in batches the broker vouches for.

One publisher per database is active at a time (a PostgreSQL advisory lock elects it), so
several may run for availability without publishing a row twice or out of order. The
active publisher wakes on NOTIFY when a transaction commits, and sweeps once a second anyway.

Its connection is in autocommit: each statement is its own transaction, so a wake-up costs two
round trips (the SELECT of what is pending, the UPDATE marking it published) instead of six with
BEGIN and COMMIT around each. Nothing here needs two statements to commit together: a row is
marked only after the broker has it, and marked twice is the same.
"""
from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Sequence

import pika.exceptions
import psycopg2
import psycopg2.extensions
import psycopg2.extras

from .heartbeat import Heartbeat
from .messaging import Backoff, ConfirmingPublisher, Topology, in_feed, run_reconnecting
from .metrics import EVENTS_PUBLISHED, serve_process_metrics
from .outbox import NOTIFY_CHANNEL
from .settings import ServiceSettings
from .worker import prepare_process, run_until_signalled

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x7461736B77697265  # "taskwire" as an int64: one advisory lock per database
RETENTION = "7 days"
STOP_CHECK_SECONDS = 0.5

FETCH_PENDING = """
    SELECT id, routing_key, payload FROM outbox_events
    WHERE published_at IS NULL ORDER BY id LIMIT %s
"""
MARK_PUBLISHED = "UPDATE outbox_events SET published_at = now() WHERE id = ANY(%s)"
# What is appended to the feed stream again after every connection to the broker (see resend_recent):
# the events published in the last seconds before the last one published, at most RESEND_COUNT.
RESEND_SECONDS = 5
RESEND_COUNT = 1000
FETCH_RECENT = f"""
    SELECT routing_key, payload FROM outbox_events
    WHERE published_at >= (SELECT max(published_at) FROM outbox_events) - interval '{RESEND_SECONDS} seconds'
    ORDER BY id DESC LIMIT %s
"""
DELETE_OLD = f"DELETE FROM outbox_events WHERE published_at < now() - interval '{RETENTION}'"


class OutboxPublisher:
    """Publishes one database's outbox to the topology's exchange while it holds the leader lock."""

    def __init__(self, database_url: str, amqp_url: str, topology: Topology, batch_size: int = 200,
                 sweep_seconds: float = 1.0, cleanup_seconds: float = 600.0,
                 housekeeping: Sequence[tuple[str, str]] = (), service: str = "unnamed"):
        """`housekeeping`: more (DELETE of expired rows, what they are) for this database, run with the
        outbox's own cleanup every `cleanup_seconds`. `service` labels its published-events counter."""
        self.published = EVENTS_PUBLISHED.labels(service)
        self.database_url = database_url
        self.broker = ConfirmingPublisher(amqp_url, topology)
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.cleanup_seconds = cleanup_seconds
        self.cleanups = [(DELETE_OLD, f"published outbox events older than {RETENTION}"),
                         *housekeeping]
        self.stop = threading.Event()
        self.heartbeat = Heartbeat.from_environment()  # touched while publishing or standing by

    def run(self) -> None:
        """Serve until stopped, reconnecting to PostgreSQL and RabbitMQ with back-off."""
        run_reconnecting(self._serve, self.stop, (psycopg2.Error, pika.exceptions.AMQPError, OSError),
                         "outbox publisher", on_error=lambda _error: self.broker.close())
        self.broker.close()
        log.info("outbox publisher stopped")

    def _serve(self, backoff: Backoff) -> None:
        connection = psycopg2.connect(self.database_url)
        connection.autocommit = True
        try:
            # A mark lost with PostgreSQL's last commits publishes those events once more, with their ids, as a
            # publisher killed before marking does: so the marks need not wait for the disk (measured: 0.1 ms of
            # the backend's CPU per commit, and most of its wall time).
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
            if not self._become_leader(connection):
                return
            self.broker.connect()
            self.broker.check_feed()
            self.resend_recent(connection)
            backoff.reset()
            log.info("outbox publisher active; listening on %s", NOTIFY_CHANNEL)
            last_cleanup = 0.0
            while not self.stop.is_set():
                self.heartbeat.beat()
                published = self.publish_pending_events(connection)
                if time.monotonic() - last_cleanup > self.cleanup_seconds:
                    self._clean_up(connection)
                    last_cleanup = time.monotonic()
                if published < self.batch_size:
                    self.broker.process_events()  # before waiting, so a wake-up goes straight to the SELECT
                    self._wait_for_commit(connection)
        finally:
            connection.close()

    def _become_leader(self, connection: psycopg2.extensions.connection) -> bool:
        """Take the advisory lock (held by the session, not a transaction), waiting while another publisher holds it."""
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
            while not self.stop.is_set():
                cursor.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,))
                row = cursor.fetchone()  # the one row of the SELECT
                if row is not None and row[0]:
                    return True
                log.debug("another outbox publisher is active; standing by")
                self.heartbeat.beat()
                self.stop.wait(self.sweep_seconds)
        return False

    def publish_pending_events(self, connection: psycopg2.extensions.connection) -> int:
        """Publish one batch of pending events in id order; returns how many were published."""
        with connection.cursor() as cursor:
            cursor.execute(FETCH_PENDING, (self.batch_size,))  # autocommit: no transaction left open meanwhile
            rows = cursor.fetchall()
        if not rows:
            return 0
        self.broker.publish_batch([(routing_key, payload) for _id, routing_key, payload in rows])
        # The broker has them all: mark them. A crash before this statement publishes them once more.
        with connection.cursor() as cursor:
            cursor.execute(MARK_PUBLISHED, ([row_id for row_id, _key, _payload in rows],))
        self.published.inc(len(rows))
        log.debug("published %d outbox events", len(rows))
        return len(rows)

    def resend_recent(self, connection: psycopg2.extensions.connection) -> int:
        """Append the feed events published in the RESEND_SECONDS before the last one to the feed stream again.

        RabbitMQ 3.10 can lose the last writes to a stream when it stops, though it confirmed them (measured:
        up to 120 of 4,400 published in 0.2 s before a restart, while a quorum queue bound alike kept every
        one), and every restart of the broker means a new connection here. The relay shows a copy only if it
        has not had the event already (by event id), so what was kept is not doubled and what was lost
        reappears, later in the feed than it was first published.
        """
        with connection.cursor() as cursor:
            cursor.execute(FETCH_RECENT, (RESEND_COUNT,))
            rows = cursor.fetchall()
        events = [payload for key, payload in reversed(rows) if in_feed(self.broker.topology, key)]
        if events:
            self.broker.append_to_feed(events)
            log.info("appended the last %d published events to the feed stream again", len(events))
        return len(events)

    def _wait_for_commit(self, connection: psycopg2.extensions.connection) -> None:
        """Sleep until a commit notifies us, the sweep is due, or we are asked to stop."""
        deadline = time.monotonic() + self.sweep_seconds
        while not connection.notifies and not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            select.select([connection], [], [], min(remaining, STOP_CHECK_SECONDS))
            connection.poll()
        connection.notifies.clear()

    def _clean_up(self, connection: psycopg2.extensions.connection) -> None:
        """Delete what has outlived its use: old published events, and the service's own housekeeping."""
        for statement, what in self.cleanups:
            with connection.cursor() as cursor:
                cursor.execute(statement)
                if cursor.rowcount:
                    log.info("deleted %d rows: %s", cursor.rowcount, what)


def main(settings: ServiceSettings, topology: Topology, housekeeping: Sequence[tuple[str, str]] = ()) -> None:
    """Entry point of a service's `python -m <service>.publisher`: runs until SIGTERM or SIGINT."""
    prepare_process(settings)
    serve_process_metrics(settings.metrics_listen)
    run_until_signalled(OutboxPublisher(settings.database_url, settings.amqp_url, topology,
                                        housekeeping=housekeeping, service=settings.service), "outbox publisher")
