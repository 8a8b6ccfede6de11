"""What a fault run expects and what it saw: pure bookkeeping, no I/O.

The run records every committed task change as a `Change`; this module turns those into the
events and notifications that must exist, and compares them with what the broker, the
notifications API and the WebSocket clients delivered. The expectations are written from the
rules as a user reads them, not by calling the services' own code; events are read through the
event contract (`TaskEvent`), as every consumer reads them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from harness.ws import Session, Watcher
from taskwire_common.contracts import TaskEvent

__all__ = ["Change", "Session", "account_events", "account_notifications", "account_sessions",
           "expected_notices", "expected_notifications", "failures_of", "visible_to"]


@dataclass(frozen=True)
class Change:
    """One committed change: the task before and after (None before a create, after a delete)."""

    kind: str  # task.created | task.updated | task.deleted
    task_id: int
    actor: int
    before: dict | None
    after: dict | None


def expected_notices(change: Change) -> Counter:
    """(user, task id, event type) of each notification the change must make; nobody hears of their own act."""
    before, after = change.before or {}, change.after or {}
    users: list[int | None] = []
    if change.kind == "task.created":
        users = [after.get("assigned_user")]
    elif change.kind == "task.deleted":
        users = [before.get("assigned_user")]
    elif before.get("assigned_user") != after.get("assigned_user"):
        users = [after.get("assigned_user"), before.get("assigned_user")]  # the new and the old assignee
    elif any(before.get(name) != after.get(name) for name in ("title", "description", "priority", "status",
                                                              "due_date")):
        users = [after.get("assigned_user")]
    return Counter((user, change.task_id, change.kind) for user in users
                   if user is not None and user != change.actor)


def expected_notifications(changes: list[Change]) -> Counter:
    total: Counter = Counter()
    for change in changes:
        total += expected_notices(change)
    return total


def account_events(changes: list[Change], tap_events: list[TaskEvent]) -> dict:
    """Each committed change must have exactly one event, per task in commit order.

    A redelivered copy (the same event id twice: the relay died between the broker's confirm and
    marking the row sent) is at-least-once delivery, counted but not a loss or a double; the
    consumers de-duplicate on the id.
    """
    expected: dict[int, list[str]] = {}
    for change in changes:
        expected.setdefault(change.task_id, []).append(change.kind)
    seen_ids: set[str] = set()
    observed: dict[int, list[str]] = {}
    for event in tap_events:
        if event.id in seen_ids:
            continue
        seen_ids.add(event.id)
        observed.setdefault(event.task["id"], []).append(event.type)
    lost = extra = out_of_order = 0
    examples: list[dict] = []
    for task_id in sorted(expected.keys() | observed.keys()):
        want, got = expected.get(task_id, []), observed.get(task_id, [])
        lost += sum((Counter(want) - Counter(got)).values())
        extra += sum((Counter(got) - Counter(want)).values())
        out_of_order += Counter(want) == Counter(got) and want != got
        if want != got and len(examples) < 10:
            examples.append({"task": task_id, "committed": want, "delivered": got})
    return {"changes": len(changes), "events": len(seen_ids), "lost": lost, "extra": extra,
            "out_of_order_tasks": out_of_order, "redelivered_copies": len(tap_events) - len(seen_ids),
            "examples": examples}


def account_notifications(expected: Counter, stored: dict[int, list[dict]]) -> dict:
    """Compare the expected notifications with those each user's API lists (user -> notifications). Quick edits
    of one task by one actor fold into one notification: it stands for `count` notices."""
    actual: Counter = Counter()
    foreign = 0
    for user, notifications in stored.items():
        for notification in notifications:
            foreign += notification["user"] != user
            actual[(notification["user"], notification["task_id"], notification["event_type"])] += \
                notification.get("count", 1)
    return {"expected": sum(expected.values()), "stored": sum(actual.values()),
            "missing": sum((expected - actual).values()), "doubled_or_unexpected": sum((actual - expected).values()),
            "foreign": foreign}


def visible_to(event: TaskEvent, user_id: int, is_admin: bool) -> bool:
    """Who may see a task event: admins all; a user those of tasks assigned to them before or after."""
    return is_admin or user_id in event.concerns


def account_sessions(sessions: list[Session], tap_events: list[TaskEvent], user_id: int, is_admin: bool) -> dict:
    """Leaks (events or notifications not for this user) and gaps (an event the user may see, routed
    while a session was demonstrably live, that the session did not get).

    A session is live from the first to the last event it received, in the broker's order (the tap
    queue sees the same order: one publisher); only ids published once mark those bounds.
    """
    positions: dict[str, list[int]] = {}
    by_id: dict[str, TaskEvent] = {}
    for index, event in enumerate(tap_events):
        positions.setdefault(event.id, []).append(index)
        by_id.setdefault(event.id, event)
    leaks = gaps = unknown = duplicates = 0
    for session in sessions:
        leaks += sum(n.get("user") != user_id for n in session.notifications)
        copies = Counter(session.event_ids)  # an id published twice may reach a socket twice
        duplicates += sum(n - 1 for i, n in copies.items() if n > 1 and len(positions.get(i, ())) < n)
        received = set(session.event_ids)
        unknown += sum(event_id not in by_id for event_id in received)
        leaks += sum(not visible_to(by_id[i], user_id, is_admin) for i in received if i in by_id)
        bounds = [positions[i][0] for i in received if len(positions.get(i, ())) == 1]
        if not bounds:
            continue
        low, high = min(bounds), max(bounds)
        gaps += sum(1 for event_id, places in positions.items()
                    if event_id not in received and any(low <= p <= high for p in places)
                    and visible_to(by_id[event_id], user_id, is_admin))
    return {"sessions": len(sessions), "events": sum(len(s.event_ids) for s in sessions), "gaps": gaps,
            "leaks": leaks, "duplicates": duplicates, "unknown": unknown}


def account_resumed(sessions: list[Session], tap_events: list[TaskEvent], user_id: int, is_admin: bool) -> dict:
    """A resuming client's sessions read as one feed: each resumed from the cursor the one before ended with, so
    together they must have every event the user may see from the first one received to the last (no gap), and
    none twice (by event id, beyond the times it was published)."""
    whole = Session(opened=sessions[0].opened if sessions else 0.0,
                    event_ids=[i for s in sessions for i in s.event_ids],
                    notifications=[n for s in sessions for n in s.notifications])
    accounted = account_sessions([whole], tap_events, user_id, is_admin)
    # A folded notification comes again with the same id and a higher count: an update, not a double.
    notes = Counter((n["id"], n.get("count", 1)) for n in whole.notifications)
    return accounted | {"sessions": len(sessions), "resyncs": sum(s.resyncs for s in sessions),
                        "resumed": sum(s.since is not None for s in sessions),
                        "notifications_twice": sum(n - 1 for n in notes.values())}


def account_watchers(watchers: list[Watcher], tap_events: list[TaskEvent],
                     account: Callable[[list[Session], list[TaskEvent], int, bool], dict]) -> tuple[dict, dict]:
    """Each watcher's sessions accounted (account_sessions or account_resumed), by username, and the totals."""
    per_person = {w.person.username: account(w.sessions, tap_events, w.person.id, w.person.is_admin)
                  for w in watchers}
    counted = next(iter(per_person.values()), {})
    return per_person, {key: sum(figures[key] for figures in per_person.values()) for key in counted}


def failures_of(events: dict, notifications: dict, sockets: dict, resumed: dict, final: dict, errors: int,
                healthy: bool) -> list[str]:
    """What a fault run got wrong, by name, from its accounts (an empty list: nothing)."""
    return [name for name, bad in (
        ("events lost", events["lost"]), ("events extra", events["extra"]),
        ("events out of order", events["out_of_order_tasks"]),
        ("notifications missing", notifications["missing"]),
        ("notifications doubled or unexpected", notifications["doubled_or_unexpected"]),
        ("notifications of another user", notifications["foreign"]),
        ("websocket leaks", sockets["leaks"]), ("websocket gaps", sockets["gaps"]),
        ("websocket duplicates", sockets["duplicates"]), ("websocket unknown events", sockets["unknown"]),
        ("resuming sockets: gaps", resumed["gaps"]),
        ("resuming sockets: duplicates", resumed["duplicates"] + resumed["notifications_twice"]),
        ("resuming sockets: leaks", resumed["leaks"] + resumed["unknown"]),
        ("resuming sockets: resync_required", resumed["resyncs"]),
        ("resuming sockets never resumed", resumed["resumed"] == 0),
        ("final round not delivered", final["missing_at_watchers"] != 0),
        ("request errors", errors), ("not healthy afterwards", not healthy),
    ) if bad]
