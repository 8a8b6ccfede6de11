"""Who hears of a task event, and in which words: pure functions, no database."""
from __future__ import annotations

from dataclasses import dataclass

from taskwire_common.contracts import TASK_CREATED, TASK_DELETED, TASK_UPDATED, TaskEvent

FIELD_NAMES = {"title": "title", "description": "description", "priority": "priority", "status": "status",
               "due_date": "due date"}


@dataclass(frozen=True)
class Notice:
    user: int
    message: str


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


def notices_for(event: TaskEvent) -> list[Notice]:
    """The notifications a task event makes; nobody hears of their own action."""
    task, actor = event.task, event.actor_username
    assignee = event.assignee
    notices: list[Notice] = []
    if event.type == TASK_CREATED:
        if assignee is not None:
            notices.append(Notice(assignee, f"{actor} assigned you {describe(task)}"))
    elif event.type == TASK_UPDATED:
        changes = event.changes
        if "assigned_user" in changes:
            old, new = changes["assigned_user"]
            if new is not None:
                notices.append(Notice(new, f"{actor} assigned you {describe(task)}"))
            if old is not None:
                notices.append(Notice(old, f"'{task['title']}' is no longer assigned to you ({actor} reassigned it)"))
        elif assignee is not None and describe_changes(changes):
            notices.append(Notice(assignee, f"{actor} changed '{task['title']}': {describe_changes(changes)}"))
    elif event.type == TASK_DELETED:
        if assignee is not None:
            notices.append(Notice(assignee, f"{actor} deleted '{task['title']}'"))
    return [notice for notice in notices if notice.user != event.actor_id]
