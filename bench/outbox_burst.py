"""Events a second through an outbox publisher: a burst committed at once, timed until the broker confirmed it all.

The burst is task.created events of no assignee (no notification comes of them), written straight
into tasks_svc's outbox in one transaction, as a big import would. Its trigger wakes the outbox
publisher, which publishes them in batches, waits for the broker's confirms of each batch (every
quorum queue and the feed stream has them then, on a quorum of their members) and marks the batch
published. The clock runs from the commit until the last row is marked. On the cluster profile
the same figure says what replicating every message to three nodes costs.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.extras

from harness import procfs
from harness.wait import wait_until
from stack.config import Profile
from taskwire_common import contracts

from .synthetic import first_task_id, marked_task_events

PUBLISHER = "tasks_outbox"
INSERT = "INSERT INTO outbox_events (event_id, routing_key, payload) VALUES %s RETURNING id"
PENDING = "SELECT count(*) FROM outbox_events WHERE id BETWEEN %s AND %s AND published_at IS NULL"


def time_burst(profile: Profile, database_url: str, events: list[contracts.Event]) -> dict[str, Any]:
    """Commit `events` to tasks_svc's outbox (at `database_url`) at once; seconds until the publisher has had them
    all confirmed, and the publisher's CPU for them."""
    publisher = procfs.program_pids(profile)[PUBLISHER]
    with psycopg2.connect(database_url) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            ids = [row[0] for row in psycopg2.extras.execute_values(
                cursor, INSERT, [(event["id"], event["type"], psycopg2.extras.Json(event)) for event in events],
                page_size=1000, fetch=True)]
            cpu_before = procfs.cpu_seconds(publisher)
            cursor.execute("COMMIT")
            started = time.monotonic()

            def published() -> bool:
                cursor.execute(PENDING, (min(ids), max(ids)))
                row = cursor.fetchone()
                return row is not None and row[0] == 0
            wait_until(published, 300, f"the outbox publisher to publish {len(events)} events", interval=0.02)
            seconds = time.monotonic() - started
    cpu = procfs.cpu_seconds(publisher) - cpu_before
    return {"events": len(events), "seconds": round(seconds, 2), "events_per_s": round(len(events) / seconds),
            "publisher_cpu_ms_per_event": round(cpu * 1000 / len(events), 3)}


def rounds(profile: Profile, database_url: str, count: int, settle: Callable[[], None]) -> dict[str, Any]:
    """Three bursts of `count` unassigned task events, `settle()` after each (the pipeline quiet again); the median
    round's figures, every round's rate, and how many broker nodes took them."""
    results = []
    for _ in range(3):
        marker = f"burst-{uuid.uuid4().hex[:6]}"
        events = marked_task_events(marker, None, count, first_task_id(marker, 1_500_000_000, 100_000))
        results.append(time_burst(profile, database_url, events))
        settle()
    middle = sorted(results, key=lambda r: r["events_per_s"])[1]
    return {**middle, "broker_nodes": profile.broker_nodes or 1,
            "rounds_events_per_s": [r["events_per_s"] for r in results]}
