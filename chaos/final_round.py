"""The fault run's last check: once the faults are over, every socket gets every event it may see from then on.

Each watcher has reconnected by itself (or resumed, for the resuming ones); a final round of creates, one
for each user's probe and then `final_changes` more, must reach every socket allowed to see them.
"""
from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

from harness.amqp import Tap
from harness.wait import poll, wait_until
from harness.ws import Watcher
from taskwire_common import contracts

from .ledger import Change

if TYPE_CHECKING:
    from .faults import FaultRun


def final_round(run: FaultRun, watchers: list[Watcher], tap: Tap, resuming: list[Watcher]) -> dict:
    """Every watcher, reconnected by itself, must get every event it may see from now on; every resuming
    one too, on whichever socket it holds by then."""
    wait_until(lambda: all(w.current for w in watchers), 60, "every watcher connected again")
    # A socket is only known to be live (not about to be refused) once an event reached it.
    deadline = time.monotonic() + 60
    while True:
        for person in run.users:
            probe = run.request(run.admin, "post", "/api/tasks/", {"title": "final probe",
                                                                      "assigned_user": person.id}, 201)
            if probe:
                run.record(Change("task.created", probe["id"], run.admin.id, None, probe))
        if poll(lambda: all(w.current and w.current.event_ids for w in watchers), 5):
            break
        if time.monotonic() > deadline:
            raise TimeoutError("the watchers' sockets never became live")
    marks = {id(w): len(w.current.event_ids) if w.current else 0 for w in watchers}
    sessions = {id(w): w.current for w in watchers}
    rng = random.Random(run.plan.seed)
    final: list[Change] = []
    for number in range(run.plan.final_changes):
        person = rng.choice(run.users)
        task = run.request(run.admin, "post", "/api/tasks/", {"title": f"final {number}",
                                                                  "assigned_user": person.id}, 201)
        if task:
            change = Change("task.created", task["id"], run.admin.id, None, task)
            run.record(change)
            final.append(change)

    events: dict = {}

    def delivered() -> int:
        events.update((e.id, e) for e in tap.drain())
        final_ids = {e.id for e in events.values()
                     if e.type == contracts.TASK_CREATED and e.task_id in {c.task_id for c in final}}
        missing = 0
        for watcher in watchers + resuming:
            if watcher in resuming:
                got = {i for session in watcher.sessions for i in session.event_ids}
            else:
                session = sessions[id(watcher)]
                got = set(session.event_ids[marks[id(watcher)]:]) if session else set()
            should = {i for i in final_ids if watcher.person.is_admin
                      or events[i].assignee == watcher.person.id}
            missing += len(should - got)
        return missing if len(final_ids) == len(final) else -1
    missing = -1
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        missing = delivered()
        if missing == 0:
            break
        time.sleep(0.2)  # polling delivery against the deadline above
    unchanged = all(sessions[id(w)] is w.current for w in watchers)
    return {"changes": len(final), "missing_at_watchers": missing, "sockets_stayed_open": unchanged}
