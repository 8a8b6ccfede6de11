"""The HTTP scenarios, each against its ceiling in the same run (bench/against_ceiling.py), then paced.

- list_tasks: a user's filtered page of 20 over 100,000 tasks;
- list_tasks_admin: the same page as an admin, over all of them (its total past 1,000 is an estimate);
- create_tasks: the admin creates tasks assigned to a user whose WebSocket is open, so the outbox
  publishers, the notification worker and the relay all run; each run's CPU is read once every
  task's notification is stored and its event reached the socket;
- list_notifications: that user's page of 20 notifications.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import psycopg2

from harness import seed, wrk
from harness.stack_runner import StackRunner
from harness.wait import wait_until
from harness.ws import LiveFeed

from .against_ceiling import AgainstCeiling, CpuMeter, Request
from .ceiling_stack import CeilingStack

LIST_PATH = "/api/tasks/?status=todo&ordering=-due_date&page_size=20"
NOTIFICATIONS_PATH = "/api/notifications/?page_size=20"
ASSIGNEE = seed.user_name(500)  # the creates' assignee, whose notifications are listed
NOTIFICATIONS_SEEDED = 200


class HttpScenarios:
    """Mixed into bench.scenarios.Bench: uses its stack, gateway, tokens, seeded accounts, log and quick flag."""

    stack: StackRunner
    gateway: str
    tokens: dict[str, str]
    seeded: seed.Seeded
    quick: bool
    log: Callable[[str], None]
    ceiling: CeilingStack | None = None

    def ceiling_stack(self) -> CeilingStack:
        """The ceiling beside the stack, started when first needed."""
        if self.ceiling is None:
            self.ceiling = CeilingStack(self.stack)
            self.ceiling.start()
        return self.ceiling

    def against_ceiling(self) -> AgainstCeiling:
        rounds, seconds = (3, 3) if self.quick else (5, 6)
        ceiling = self.ceiling_stack()
        return AgainstCeiling(self.gateway, ceiling, CpuMeter(self.stack, ceiling), self.log, rounds, seconds)

    def stop_ceiling(self) -> None:
        if self.ceiling is not None:
            self.ceiling.stop()
            self.ceiling = None

    def list_tasks(self) -> dict[str, Any]:
        return self.with_paced_latency(self.against_ceiling().run(Request(LIST_PATH, self.tokens["user"])),
                                       Request(LIST_PATH, self.tokens["user"]))

    def list_tasks_admin(self) -> dict[str, Any]:
        return self.with_paced_latency(self.against_ceiling().run(Request(LIST_PATH, self.tokens["admin"])),
                                       Request(LIST_PATH, self.tokens["admin"]))

    def list_notifications(self) -> dict[str, Any]:
        seed_notifications(self.stack, self.seeded.id_of(ASSIGNEE), NOTIFICATIONS_SEEDED)
        token = seed.sign_in(self.gateway, ASSIGNEE)
        return self.with_paced_latency(self.against_ceiling().run(Request(NOTIFICATIONS_PATH, token)),
                                       Request(NOTIFICATIONS_PATH, token))

    def create_tasks(self) -> dict[str, Any]:
        assignee = self.seeded.id_of(ASSIGNEE)
        # Due in a month: no reminder falls due during the run.
        body = json.dumps({"title": "Bench create", "priority": "high", "assigned_user": assignee,
                           "due_date": (date.today() + timedelta(days=30)).isoformat()})
        request = Request("/api/tasks/", self.tokens["admin"], "POST", body)
        feed = LiveFeed(self.gateway, seed.sign_in(self.gateway, ASSIGNEE))
        try:
            settle = Settled(self.stack, assignee, feed)
            figures = self.against_ceiling().run(request, settle)
            figures = self.with_paced_latency(figures, request)
            settle()
            figures["socket_messages"] = len(feed.messages)
            return figures
        finally:
            feed.close()

    def with_paced_latency(self, figures: dict[str, Any], request: Request) -> dict[str, Any]:
        """Taskwire's latency at half the peak it reached (a p99 at saturation is only queueing)."""
        rate = figures["requests_per_s"] / 2
        self.log(f"  latency at half the peak ({rate:.0f} req/s)")
        paced = wrk.paced_latency(self.gateway + request.path, request.token, rate, method=request.method,
                                  body=request.body, runs=1 if self.quick else 3, seconds=5 if self.quick else 10,
                                  log=self.log)
        return {**figures, "paced_requests_per_s": paced["requests_per_s"], "p50_ms": paced["p50_ms"],
                "p99_ms": paced["p99_ms"]}


class Settled:
    """Waits until every task assigned to the user has its notification stored and its event on the socket."""

    def __init__(self, stack: StackRunner, assignee: int, feed: LiveFeed):
        self.tasks_url, self.notify_url = stack.database_url("tasks_svc"), stack.database_url("notify_svc")
        self.assignee, self.feed = assignee, feed
        self.tasks_before, self.notifications_before = self.tasks(), self.notifications()
        self.events_before = self.events()

    def tasks(self) -> int:
        return count(self.tasks_url, "SELECT count(*) FROM tasks WHERE assigned_user = %s", self.assignee)

    def notifications(self) -> int:
        return count(self.notify_url, "SELECT count(*) FROM notifications WHERE \"user\" = %s "
                     "AND event_type = 'task.created'", self.assignee)

    def events(self) -> int:
        return sum(1 for message in self.feed.messages
                   if message["type"] == "task_update" and message["action"] == "task_created")

    def __call__(self) -> None:
        created = self.tasks() - self.tasks_before

        def done() -> bool:
            return (self.notifications() - self.notifications_before >= created
                    and self.events() - self.events_before >= created)
        wait_until(done, 300, f"the notifications and socket events of {created} creates", interval=0.1)


def count(database_url: str, sql: str, *params: Any) -> int:
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return seed.fetch_value(cursor)


def seed_notifications(stack: StackRunner, user: int, wanted: int) -> None:
    """At least `wanted` notifications for the user, written straight into notify_svc's database."""
    with psycopg2.connect(stack.database_url("notify_svc")) as connection, connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM notifications WHERE "user" = %s', (user,))
        missing = wanted - seed.fetch_value(cursor)
        if missing > 0:
            cursor.execute("""
                INSERT INTO notifications ("user", message, is_read, created_at, task_id, event_type, event_id, kind)
                SELECT %s, 'Bench notification ' || g, g %% 3 = 0, now() - g * interval '1 minute', g,
                       'task.updated', gen_random_uuid(), 'updated'
                FROM generate_series(1, %s) AS g""", (user, missing))
