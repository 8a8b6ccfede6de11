"""Task events the bench makes itself, for load that must not go through the API."""
from __future__ import annotations

import random

from taskwire_common import contracts

BENCH_ACTOR = contracts.Actor(0, "bench")
BENCH_SOURCE = "/taskwire/bench"


def synthetic_task_event(title: str, assignee: int | None, task_id: int) -> contracts.Event:
    """A task.created event as tasks_svc writes it."""
    task = {"id": task_id, "title": title, "description": "", "priority": "low", "status": "todo",
            "due_date": None, "assigned_user": assignee, "created_by": 0}
    return contracts.task_created(task, BENCH_ACTOR, source=BENCH_SOURCE)


def first_task_id(marker: str, base: int, spread: int) -> int:
    """Where a run's task ids start: `base` plus a multiple of `spread` picked by the run's marker, so runs do not
    collide. Callers keep base + 1,000 × spread within int32 and clear of real task ids."""
    return base + random.Random(marker).randrange(1000) * spread


def marked_task_events(marker: str, assignee: int | None, count: int, first_id: int) -> list[contracts.Event]:
    """`count` task.created events titled `marker`, task ids first_id … first_id + count - 1."""
    return [synthetic_task_event(marker, assignee, first_id + number) for number in range(count)]
