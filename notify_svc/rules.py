"""Who hears of a task event, in which words, and when a task is due: pure functions, no database."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from taskwire_common.contracts import TASK_CREATED, TASK_DELETED, TASK_UPDATED, TaskEvent

FIELD_NAMES = {"title": "title", "description": "description", "priority": "priority", "status": "status",
               "due_date": "due date"}

# The kinds of notification, each of which a user may mute (GET/PUT /api/notifications/preferences/).
ASSIGNED, UPDATED, UNASSIGNED, DELETED, DUE_SOON, OVERDUE = (
    "assigned", "updated", "unassigned", "deleted", "due_soon", "overdue")
KINDS = (ASSIGNED, UPDATED, UNASSIGNED, DELETED, DUE_SOON, OVERDUE)
REMINDER_KINDS = (DUE_SOON, OVERDUE)
# A reminder's `event_type`: no event of these types travels; they name what made the notification.
REMINDER_EVENT_TYPES = {DUE_SOON: "reminder.due_soon", OVERDUE: "reminder.overdue"}


@dataclass(frozen=True)
class Notice:
    user: int
    kind: str
    message: str
    change_note: str | None = None  # an update's words for its changes, which coalescing joins with the next


def describe(task: dict) -> str:
    due = f"due {task['due_date']}" if task.get("due_date") else "no due date"
    return f"'{task['title']}' ({task['priority']}, {due})"


def show(field: str, value) -> str:
    if value is None:
        return "none"
    if field == "title":
        return f"'{value}'"
    return str(value).replace("_", " ") if field == "status" else str(value)


def describe_changes(changes: dict) -> str:
    parts = []
    for field, (old, new) in changes.items():
        if field == "assigned_user":
            continue
        if field == "description":
            parts.append("description edited")
        else:
            parts.append(f"{FIELD_NAMES.get(field, field)} {show(field, old)} → {show(field, new)}")
    return ", ".join(parts)


def updated_message(actor: str, title: str, change_notes: list[str]) -> str:
    """One message for one or several updates by one actor, naming every change in order."""
    return f"{actor} changed '{title}': {'; '.join(change_notes)}"


def notices_for(event: TaskEvent) -> list[Notice]:
    """The notifications a task event makes; nobody hears of their own action."""
    task, actor = event.task, event.actor_username
    assignee = event.assignee
    notices: list[Notice] = []
    if event.type == TASK_CREATED:
        if assignee is not None:
            notices.append(Notice(assignee, ASSIGNED, f"{actor} assigned you {describe(task)}"))
    elif event.type == TASK_UPDATED:
        changes = event.changes
        if "assigned_user" in changes:
            old, new = changes["assigned_user"]
            if new is not None:
                notices.append(Notice(new, ASSIGNED, f"{actor} assigned you {describe(task)}"))
            if old is not None:
                notices.append(Notice(old, UNASSIGNED,
                                      f"'{task['title']}' is no longer assigned to you ({actor} reassigned it)"))
        elif assignee is not None and (note := describe_changes(changes)):
            notices.append(Notice(assignee, UPDATED, updated_message(actor, task["title"], [note]), note))
    elif event.type == TASK_DELETED:
        if assignee is not None:
            notices.append(Notice(assignee, DELETED, f"{actor} deleted '{task['title']}'"))
    return [notice for notice in notices if notice.user != event.actor_id]


def audible(notices: list[Notice], muted: Mapping[int, Collection[str]]) -> list[Notice]:
    """The notices whose user has not muted their kind."""
    return [notice for notice in notices if notice.kind not in muted.get(notice.user, ())]


def preferences(muted: Collection[str]) -> dict[str, bool]:
    """Every kind, on unless muted."""
    return {kind: kind not in muted for kind in KINDS}


def unknown_kinds(names: Collection[str]) -> list[str]:
    return sorted(name for name in names if name not in KINDS)


# -- due dates: a task due on day D is due at the end of D in UTC, that is at D+1 00:00 UTC ---------------


def due_at(due_date: date) -> datetime:
    return datetime.combine(due_date + timedelta(days=1), time.min, tzinfo=timezone.utc)


def reminder_kind(due_date: date, now: datetime, lead: timedelta) -> str | None:
    """`overdue` from the moment the task is due, `due_soon` from `lead` before it, else None."""
    moment = due_at(due_date)
    if now >= moment:
        return OVERDUE
    return DUE_SOON if now >= moment - lead else None


def last_due_date_reminded(now: datetime, lead: timedelta) -> date:
    """The latest due date that has a reminder due at `now` (`due_soon` at least): D with D+1 00:00 <= now + lead."""
    return (now + lead).astimezone(timezone.utc).date() - timedelta(days=1)


def reminder_message(kind: str, title: str, priority: str, due_date: date) -> str:
    if kind == OVERDUE:
        return f"'{title}' is overdue: it was due {due_date.isoformat()} ({priority})"
    return f"'{title}' is due soon: due {due_date.isoformat()} ({priority})"
