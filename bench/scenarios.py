"""The benchmark scenarios, each returning its figures; the runner in __main__ records them."""
from __future__ import annotations

import json
import random
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import psycopg2
import requests

from broker import topology
from harness import amqp, procfs, seed
from harness.stack_runner import StackRunner
from harness.standalone_relay import standalone_relay
from harness.wait import poll, wait_until
from harness.ws import ws_url
from harness.ws_load import SocketPool
from stack.config import Profile
from taskwire_common.messaging import ConfirmingPublisher

from . import http_scenarios, outbox_burst, resume
from .commits import CommitWatch
from .http_scenarios import HttpScenarios
from .synthetic import first_task_id, marked_task_events, synthetic_task_event

STANDALONE_RELAY_OFFSET = 104  # the relay started on its own, beside the stack's: gateway port + this
RESUME_FIRST_ID = 2_000_000_000  # task ids of mass_resume's synthetic events: int32, clear of real ids
STREAM_RESUME_HISTORY = 500  # stream_resume's relay history: its cursors, 1,000 events old, are read from the stream


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {"samples": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(percentile(ms, 0.99), 2),
            "max_ms": round(max(ms), 2)}


class Bench(HttpScenarios):
    """The scenarios against a seeded stack of the bench profile; `prepare` seeds and signs in first.

    The HTTP scenarios (list_tasks, list_tasks_admin, create_tasks, list_notifications) are in
    bench/http_scenarios.py.
    """

    def __init__(self, profile: Profile, log: Callable[[str], None], quick: bool = False):
        self.profile, self.log, self.quick = profile, log, quick
        self.gateway = profile.gateway_url
        self.standalone_relay_port = profile.gateway_port + STANDALONE_RELAY_OFFSET
        self.standalone_relay = f"http://127.0.0.1:{self.standalone_relay_port}"
        self.stack = StackRunner(profile, quiet=True)
        self.seeded = seed.Seeded({})
        self.tokens: dict[str, str] = {}

    def prepare(self) -> None:
        self.seeded = seed.seed(self.stack, self.log)
        self.tokens["admin"] = seed.sign_in(self.gateway, seed.ADMIN)
        # lists: ~100 seeded tasks, a third of them todo
        self.tokens["user"] = seed.sign_in(self.gateway, seed.user_name(7))
        self.wait_for_quiet_pipeline()

    def wait_for_quiet_pipeline(self, seconds: float = 300.0) -> None:
        """Until no event waits in an outbox or in the notification worker's queue: a run stopped half way leaves
        thousands behind, and the next run's scenarios would measure the stack working them off."""
        def waiting() -> dict[str, int]:
            counts = {service: http_scenarios.count(self.stack.database_url(service),
                                                    "SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
                      for service in ("tasks_svc", "notify_svc")}
            counts["notification worker"] = amqp.queue_messages(self.profile, topology.NOTIFY_TASKS_QUEUE)
            return counts
        backlog = waiting()
        if any(backlog.values()):
            self.log(f"  waiting for the events earlier runs left behind: {backlog}")
            wait_until(lambda: not any(waiting().values()), seconds, "the outboxes and the worker's queue to empty",
                       interval=0.5)

    # -- scenarios -------------------------------------------------------------------------------

    def start_time(self) -> dict[str, Any]:
        """`make start` with everything installed: seconds from stopped to healthy through the gateway."""
        self.stack.stop()
        seconds = self.stack.start()
        return {"seconds": round(seconds, 2)}

    def event_latency(self) -> dict[str, Any]:
        """1,000 sockets through nginx; the admin creates tasks for users at 100/s; commit → socket, → stored.

        The commit's moment is when PostgreSQL's NOTIFY of it reached a listener of the bench's own
        (bench/commits.py); the event's `time`, taken before its statement, gives the figure from there too."""
        users = self.seeded.user_ids()
        user_tokens = [seed.sign_in(self.gateway, seed.user_name(n)) for n in range(3)]
        urls = [ws_url(self.gateway, token=self.tokens["admin"])] + \
            [ws_url(self.gateway, token=user_tokens[n % 3]) for n in range(999)]
        pool = SocketPool()
        pool.open(urls, log=self.log)
        watch = CommitWatch(self.stack.database_url("tasks_svc"))
        try:
            marker = f"latency-{uuid.uuid4().hex[:6]}"
            count = 500 if self.quick else 2000
            self.log(f"  {count} task changes at 100/s")
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.tokens['admin']}"
            rng = random.Random(11)
            sent: list[float] = []  # when each create was sent
            for number in paced(count, per_second=100):
                sent.append(time.time())
                session.post(f"{self.gateway}/api/tasks/", timeout=30, json={
                    "title": f"{marker} {number}", "assigned_user": rng.choice(users)}).raise_for_status()
            wait_for_arrivals(pool, marker, count)  # measured below from each create's commit
            commits = watch.commits_of(sent)
            delays, from_event_time, committed = [], [], {}
            for index, arrived, raw in pool.received:
                message = json.loads(raw)
                if index == 0 and message["type"] == "task_update" and message["task"]["title"].startswith(marker):
                    moment = commits[int(message["task"]["title"].rsplit(" ", 1)[1])]
                    delays.append(arrived - moment)
                    from_event_time.append(arrived - iso_seconds(message["occurred_at"]))
                    committed[message["task"]["id"]] = moment
        finally:
            watch.close()
            pool.close()
        stored = self.notification_delays(committed)
        to_socket, ceiling = summary_ms(delays), self.socket_ceiling(count)
        return {"sockets": len(urls), "events": count, "to_socket": to_socket,
                "to_socket_from_event_time": summary_ms(from_event_time),
                "to_notification": summary_ms(stored), "ceiling_to_socket": ceiling,
                "fraction": round(ceiling["p50_ms"] / to_socket["p50_ms"], 3)}

    def socket_ceiling(self, count: int) -> dict[str, Any]:
        """The bare publish→socket loop (bench/ceiling.py) behind its nginx: `count` task events published at
        100/s straight onto the exchange, each timed from its own `time` to its arrival on one socket."""
        marker = f"bare-{uuid.uuid4().hex[:6]}"
        pool = SocketPool()
        pool.open([ws_url(self.ceiling_stack().gateway_url, token=self.tokens["admin"])], log=self.log)
        publisher = ConfirmingPublisher(self.stack.amqp_url(), topology)
        publisher.connect()
        try:
            self.log(f"  the ceiling: {count} events at 100/s from the exchange to a bare socket loop")
            for number in paced(count, per_second=100):
                event = synthetic_task_event(marker, None, RESUME_FIRST_ID + number)
                publisher.publish_batch([(event["type"], event)])
            wait_for_arrivals(pool, marker, count)
            delays = [arrived - iso_seconds(json.loads(raw)["time"]) for _, arrived, raw in pool.received
                      if marker in raw]
        finally:
            publisher.close()
            pool.close()
        return summary_ms(delays)

    def notification_delays(self, committed: dict[int, float]) -> list[float]:
        """From each task's commit to its notification's row (created_at: the worker's transaction start)."""
        with psycopg2.connect(self.stack.database_url("notify_svc")) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT task_id, extract(epoch FROM created_at) FROM notifications "
                           "WHERE task_id = ANY(%s) AND event_type = 'task.created'", (list(committed),))
            return [float(created) - committed[task_id] for task_id, created in cursor.fetchall()]

    def sockets_and_fanout(self) -> dict[str, Any]:
        """One relay process (1 worker, direct): hold N idle admin sockets, then fan one event out to all."""
        count = 2000 if self.quick else 10_000
        pool = SocketPool()
        with self.relay_alone() as relay:
            try:
                worker = procfs.first_child(relay.pid)
                before = resident_kib(worker)
                pool.open([ws_url(self.standalone_relay, token=self.tokens["admin"])] * count,
                          log=self.log)
                time.sleep(2.0)  # let the relay settle its buffers before reading its memory
                after = resident_kib(worker)
                fanouts = [self.fan_out_once(pool, count) for _ in range(1 if self.quick else 3)]
            finally:
                pool.close()
        return {"sockets": count, "relay_rss_kib_before": before, "relay_rss_kib_after": after,
                "rss_per_socket_kib": round((after - before) / count, 1),
                "fanout_last_delivery_ms": round(statistics.median(fanouts) * 1000, 1),
                "fanout_runs_ms": [round(f * 1000, 1) for f in fanouts]}

    def fan_out_once(self, pool: SocketPool, count: int) -> float:
        marker = f"fanout-{uuid.uuid4().hex[:6]}"
        already = len(pool.received)
        published = time.time()
        amqp.publish(self.stack.amqp_url(), [synthetic_task_event(marker, None, 0)])

        def arrivals() -> list[float]:
            return [t for _, t, raw in pool.received[already:] if marker in raw]
        if not poll(lambda: len(arrivals()) >= count, 60, interval=0.05):
            raise RuntimeError(f"fan-out reached only {len(arrivals())} of {count} sockets in 60 s")
        last = max(arrivals()) - published
        self.log(f"  fan-out to {count}: last delivery after {last * 1000:.0f} ms")
        return last

    def relay_alone(self, **settings: str) -> AbstractContextManager[subprocess.Popen]:
        """One relay process (one worker) beside the stack, reached directly; `settings` are environment variables."""
        return standalone_relay(self.stack, self.standalone_relay_port, {"WORKER_CONNECTIONS": "19000", **settings})

    def mass_resume(self) -> dict[str, Any]:
        """N admin sockets of one relay process (1 worker, direct) note their cursor and leave; 1,000 events later
        all resume at once: seconds until every one has had its replay and a live marker, and the relay's CPU."""
        return self.resume_sockets(500 if self.quick else 2000)

    def stream_resume(self) -> dict[str, Any]:
        """As mass_resume, with cursors older than the relay's history (WS_HISTORY_SIZE 500): every socket reads
        the stream on a connection of its own, and all are one admin's, so one at a time (ReaderSlots). What one
        old cursor costs: seconds and relay CPU per read."""
        count = 50 if self.quick else 200
        figures = self.resume_sockets(count, WS_HISTORY_SIZE=str(STREAM_RESUME_HISTORY))
        figures.update(history=STREAM_RESUME_HISTORY,
                       per_read_ms={"wall": round(figures["all_live_s"] / count * 1000, 1),
                                    "relay_cpu": round(figures["relay_cpu_s"] / count * 1000, 1)})
        return figures

    def resume_sockets(self, count: int, **relay_settings: str) -> dict[str, Any]:
        run = resume.Run(f"resume-{uuid.uuid4().hex[:6]}", RESUME_FIRST_ID, 1000)
        with self.relay_alone(**relay_settings) as relay:
            steps = resume.MassResume(self.standalone_relay, ws_url(self.standalone_relay, token=self.tokens["admin"]),
                                      run, self.publish_task_events, self.log)
            cursors = steps.note_cursors(count)
            steps.publish_while_away()
            figures = steps.resume_at_once(cursors, procfs.first_child(relay.pid))
        return {"sockets": count, "token": "admin (sees every event)", "events_behind": run.events, **figures}

    def publish_task_events(self, titled_ids: list[tuple[str, int]]) -> None:
        """Publish a synthetic task.created for each (title, task id), unassigned (so no notifications)."""
        events = (synthetic_task_event(title, None, task_id) for title, task_id in titled_ids)
        amqp.publish(self.stack.amqp_url(), events)

    def outbox_burst(self) -> dict[str, Any]:
        """N task events committed to tasks_svc's outbox at once, three rounds (bench/outbox_burst.py)."""
        return outbox_burst.rounds(self.profile, self.stack.database_url("tasks_svc"), 2000 if self.quick else 10_000,
                                   settle=self.wait_for_quiet_pipeline)

    def consumer_drain(self) -> dict[str, Any]:
        """N task events queued while notify_worker is stopped; seconds until all their notifications exist."""
        count = 2000 if self.quick else 10_000
        self.stack.supervisorctl("stop", "taskwire:notify_worker", check=True)
        marker = f"drain-{uuid.uuid4().hex[:6]}"
        user = self.seeded.user_ids()[3]
        first_id = first_task_id(marker, 1_000_000_000, 1_000_000)
        amqp.publish(self.stack.amqp_url(), marked_task_events(marker, user, count, first_id))
        self.log(f"  {count} events queued; starting the consumer")
        started = time.monotonic()
        self.stack.supervisorctl("start", "taskwire:notify_worker", check=True)
        with psycopg2.connect(self.stack.database_url("notify_svc")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                def drained() -> bool:
                    cursor.execute("SELECT count(*) FROM notifications WHERE task_id BETWEEN %s AND %s",
                                   (first_id, first_id + count - 1))
                    return seed.fetch_value(cursor) >= count
                wait_until(drained, 300, "the queue to drain", interval=0.05)
        return {"events": count, "seconds": round(time.monotonic() - started, 2)}


def paced(count: int, per_second: float) -> Iterator[int]:
    """0 … count - 1, each at its moment on a fixed schedule (pacing the load, not waiting for anything)."""
    started = time.monotonic()
    for number in range(count):
        time.sleep(max(0.0, started + number / per_second - time.monotonic()))
        yield number


def wait_for_arrivals(pool: SocketPool, marker: str, count: int, index: int = 0) -> None:
    """Until socket `index` of the pool has received `count` messages carrying `marker` (a lost one fails the run)."""
    def arrived() -> int:
        return sum(1 for number, _, raw in pool.received if number == index and marker in raw)
    wait_until(lambda: arrived() >= count, 60, f"{count} messages marked {marker} on socket {index}", interval=0.05)


def iso_seconds(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def resident_kib(pid: int) -> int:
    kib = procfs.rss_kib(pid)
    if kib is None:
        raise RuntimeError(f"no VmRSS for {pid}: it exited")
    return kib
