"""The fault run: task changes through the gateway while the system is broken on purpose.

While writers make task changes at a steady pace (as the admin and as the users they are
assigned to: creates, edits, reassignments, deletes), a fault thread, evenly spread over the
run and in a seeded random order:

- restarts RabbitMQ (`rabbitmqctl stop_app`, a few seconds, `start_app`);
- kills the tasks outbox publisher and the notifications consumer with SIGKILL (supervisord starts
  them again, as Docker's restart policy does in compose);
- restarts PostgreSQL (on this machine one cluster holds every service's database, so all of
  them go down at once: a harder fault than one service's database).

A durable tap queue sees every task event; one WebSocket client per person watches through
the gateway and reconnects whenever its socket closes, and a second one per person leaves its
socket at random every few seconds and resumes from its last cursor (`?since=`): across all its
sockets it must have every event it may see, none twice. Afterwards the run waits (with a
deadline) until the system has settled, then makes a final round of changes that every
reconnected client must receive, and reports (chaos/ledger.py does the arithmetic): events
lost, extra or out of order; notifications missing or doubled; WebSocket leaks and gaps;
requests answered with anything but success or a JSON 503 while PostgreSQL was down.
"""
from __future__ import annotations

import functools
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from harness import api
from harness.amqp import Tap, amqp_url
from harness.api import Person, bearer
from harness.wait import wait_until
from harness.ws import Watcher
from stack.config import Profile

from . import failover
from .final_round import final_round
from .injectors import Faults
from .ledger import (
    Change,
    account_events,
    account_notifications,
    account_resumed,
    account_sessions,
    account_watchers,
    expected_notifications,
    failures_of,
)
from .plan import Plan

REQUEST_TIMEOUT = 10.0  # a request that takes longer is a hang, and a failure
PASSWORD = "chaos-password-1"


# -- the run ---------------------------------------------------------------------------------------


@dataclass
class Outcomes:
    """Every request's result, and the changes that were committed."""

    changes: list[Change] = field(default_factory=list)
    refused_503: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FaultRun:
    def __init__(self, gateway: str, profile: Profile, admin: tuple[str, str], plan: Plan, log=print):
        self.gateway, self.profile, self.plan, self.log = gateway, profile, plan, log
        self.admin_credentials = admin
        self.faults = Faults(profile, log, plan.wait_for_soak)
        self.outcomes = Outcomes()
        self.people: list[Person] = []

    # -- setup

    def setup(self) -> None:
        username, password = self.admin_credentials
        signed_in = api.login(self.gateway, username, password, timeout=REQUEST_TIMEOUT)
        self.people = [Person(signed_in["user"]["id"], username, signed_in["token"], True)]
        for _ in range(self.plan.users):
            name = "chaos" + uuid.uuid4().hex[:10]
            self.people.append(api.register(self.gateway, name, PASSWORD, timeout=REQUEST_TIMEOUT))
        # tasks_svc learns of new users from their events: wait until it accepts each as an assignee.
        for person in self.users:
            wait_until(functools.partial(self._probe_assignment, person), 30, f"tasks_svc knows user {person.id}")

    def _probe_assignment(self, person: Person) -> bool:
        response = requests.post(f"{self.gateway}/api/tasks/", headers=bearer(self.admin.token),
                                 timeout=REQUEST_TIMEOUT, json={"title": "probe", "assigned_user": person.id})
        if response.status_code == 201:
            task = response.json()
            self.record(Change("task.created", task["id"], self.admin.id, None, task))
        return response.status_code == 201

    @property
    def admin(self) -> Person:
        return self.people[0]

    @property
    def users(self) -> list[Person]:
        return self.people[1:]

    def record(self, change: Change) -> None:
        with self.outcomes.lock:
            self.outcomes.changes.append(change)

    # -- the load

    def run(self) -> dict:
        plan = self.plan
        tap = Tap(amqp_url(self.profile))
        try:
            self.setup()
            watchers = [Watcher(self.gateway, person) for person in self.people]
            resuming = [Watcher(self.gateway, person, resume=True, drop_after=plan.resuming_drop_after,
                                seed=plan.seed + number) for number, person in enumerate(self.people)]
            for watcher in watchers + resuming:
                watcher.start()
            self.log(f"   {plan.changes} changes over {plan.seconds:.0f} s by {plan.writers} writers; "
                     f"faults: {', '.join(plan.faults())}")
            started = time.monotonic()
            self._load_with_faults()
            load_seconds = time.monotonic() - started
            self.log(f"   load done in {load_seconds:.0f} s: {len(self.outcomes.changes)} changes committed, "
                     f"{self.outcomes.refused_503} refused with 503, {len(self.outcomes.errors)} errors")
            settled = self._settle(tap)
            for watcher in resuming:
                watcher.stop_dropping()
            final = final_round(self, watchers, tap, resuming)
            for watcher in watchers + resuming:
                watcher.stop()
            return self._report(tap, watchers, resuming, load_seconds, settled, final)
        finally:
            tap.delete()

    def _load_with_faults(self) -> None:
        plan = self.plan
        committed = threading.Event()
        next_slot = iter(range(10**9))
        slot_lock = threading.Lock()
        begin = time.monotonic()
        interval = plan.seconds / plan.changes
        target = len(self.outcomes.changes) + plan.changes

        def writer(number: int) -> None:
            rng = random.Random(plan.seed * 1000 + number)
            tasks: dict[int, dict] = {}
            while len(self.outcomes.changes) < target:
                with slot_lock:
                    slot = next(next_slot)
                pause = begin + slot * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # pacing the load, not waiting for a condition
                self._one_change(rng, tasks)
            committed.set()

        threads = [threading.Thread(target=writer, args=(n,), name=f"writer-{n}") for n in range(plan.writers)]
        for thread in threads:
            thread.start()
        faults = plan.faults()
        for index, name in enumerate(faults):
            at = begin + (index + 1) * plan.seconds / (len(faults) + 1)
            while time.monotonic() < at and not committed.is_set():
                time.sleep(0.1)  # the fault schedule
            self.faults.inject(name)
            done = len(self.outcomes.changes) - (target - plan.changes)
            self.log(f"   {done}/{plan.changes} changes committed")
        for thread in threads:
            thread.join()

    def _one_change(self, rng: random.Random, tasks: dict[int, dict]) -> None:
        roll = rng.random()
        if len(tasks) < 3 or roll < 0.35:
            person = self.admin if rng.random() < 0.7 else rng.choice(self.users)
            assignee = (rng.choice(self.users).id if rng.random() < 0.9 else None) if person.is_admin else person.id
            body = {"title": f"chaos {uuid.uuid4().hex[:8]}", "priority": rng.choice(["low", "medium", "high"]),
                    "assigned_user": assignee}
            task = self.request(person, "post", "/api/tasks/", body, 201)
            if task:
                tasks[task["id"]] = task
                self.record(Change("task.created", task["id"], person.id, None, task))
            return
        before = tasks[rng.choice(sorted(tasks))]
        owner = next((p for p in self.users if p.id == before["assigned_user"]), None)
        person = owner if owner and rng.random() < 0.4 else self.admin
        if roll < 0.7:
            if person.is_admin and rng.random() < 0.4:
                # Always a real change: an update that changes nothing is no change and has no event.
                others = [p.id for p in self.users if p.id != before["assigned_user"]]
                body = {"assigned_user": rng.choice(others + ([None] if before["assigned_user"] else []))}
            else:
                body = {"status": rng.choice([s for s in ("todo", "in_progress", "completed")
                                              if s != before["status"]])}
            after = self.request(person, "patch", f"/api/tasks/{before['id']}/", body, 200)
            if after:
                tasks[after["id"]] = after
                self.record(Change("task.updated", after["id"], person.id, before, after))
        elif self.request(person, "delete", f"/api/tasks/{before['id']}/", None, 204) is not None:
            del tasks[before["id"]]
            self.record(Change("task.deleted", before["id"], person.id, before, None))

    def request(self, person: Person, method: str, path: str, body, expected: int):
        """The response body on success ({} for a 204); None if refused with 503 during an outage."""
        sent = time.monotonic()
        try:
            response = requests.request(method, self.gateway + path, json=body, headers=bearer(person.token),
                                        timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            return self._error(f"{method.upper()} {path}: {type(exc).__name__} after {time.monotonic() - sent:.1f} s")
        if response.status_code == expected:
            return response.json() if response.content else {}
        if (response.status_code == 503 and response.headers.get("Content-Type", "").startswith(
                "application/problem+json") and self.faults.in_database_outage(sent, time.monotonic())):
            with self.outcomes.lock:
                self.outcomes.refused_503 += 1
            return None
        return self._error(f"{method.upper()} {path}: {response.status_code} {response.text[:200]}")

    def _error(self, text: str) -> None:
        with self.outcomes.lock:
            self.outcomes.errors.append(text)
        self.log(f"   error: {text}")
        return None

    # -- afterwards

    def _settle(self, tap: Tap) -> dict:
        """Wait (with a deadline) until every event and notification is accounted for; return the figures."""
        deadline = time.monotonic() + 120
        while True:
            events = account_events(self.outcomes.changes, tap.drain())
            notifications = self.notification_accounting()
            clean = not (events["lost"] or events["extra"] or notifications["missing"]
                         or notifications["doubled_or_unexpected"])
            if clean or time.monotonic() > deadline:
                return {"events": events, "notifications": notifications, "healthy": api.healthy(self.profile),
                        "processes": self.faults.supervisorctl("status").splitlines()}
            time.sleep(2)  # polling the settled state against the deadline above

    def notification_accounting(self) -> dict:
        stored = {}
        for person in self.people:
            stored[person.id] = self.all_notifications(person)
        return account_notifications(expected_notifications(self.outcomes.changes), stored)

    def all_notifications(self, person: Person) -> list[dict]:
        """What the API lists for the person; as far as it answers, while the system may still be recovering."""
        items: list[dict] = []
        try:
            for page in api.notification_pages(self.gateway, person.token, timeout=REQUEST_TIMEOUT):
                items += page
        except requests.RequestException:
            pass
        return items

    def _report(self, tap: Tap, watchers: list[Watcher], resuming: list[Watcher], load_seconds: float,
                settled: dict, final: dict) -> dict:
        tap_events = tap.drain()
        sockets, totals = account_watchers(watchers, tap_events, account_sessions)
        resumed, resumed_totals = account_watchers(resuming, tap_events, account_resumed)
        events, notifications = account_events(self.outcomes.changes, tap_events), self.notification_accounting()
        failures = failures_of(events, notifications, totals, resumed_totals, final,
                               errors=len(self.outcomes.errors), healthy=settled["healthy"])
        return {
            "ok": not failures, "failures": failures,
            "plan": {k: v for k, v in vars(self.plan).items()},
            "load_seconds": round(load_seconds, 1),
            "faults": [{"fault": name, "seconds": round(ended - started, 1)}
                       for name, started, ended in self.faults.windows],
            "requests": {"changes_committed": len(self.outcomes.changes), "refused_503": self.outcomes.refused_503,
                         "errors": self.outcomes.errors[:20], "error_count": len(self.outcomes.errors)},
            "events": events, "notifications": notifications,
            "websocket": {"totals": totals, "final_round": final, "per_person": sockets,
                          "resuming": {"totals": resumed_totals, "per_person": resumed},
                          "close_codes": sorted({s.close_code for w in watchers for s in w.sessions
                                                 if s.close_code is not None})},
            "healthy_afterwards": settled["healthy"], "processes": settled["processes"],
            **({"failover": failover.report(self.faults.node_killed_at, watchers)} if self.plan.node_kills else {}),
        }
