"""notify_svc's own copy of what reminders need of each task, kept from task events, never from tasks_svc.

The rows are stored, with the newest winning, by the batch's one statement (intake.py)."""
from __future__ import annotations

from datetime import date
from typing import Any

from taskwire_common.contracts import TASK_DELETED, MalformedEvent, TaskEvent


def projection_row(event: TaskEvent) -> dict[str, Any] | None:
    """The task as the event leaves it, or None when the event names no task id. Raises MalformedEvent."""
    task = event.task
    if not isinstance(task.get("id"), int):
        return None
    try:
        due = date.fromisoformat(task["due_date"]) if task.get("due_date") else None
        return {"task_id": task["id"], "version": int(task.get("version") or 0),
                "deleted": event.type == TASK_DELETED, "title": str(task["title"]),
                "priority": str(task["priority"]), "status": str(task["status"]),
                "assignee": task.get("assigned_user"), "due_date": due}
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedEvent(f"task event {event.id} has no readable task: {error!r}") from None


def newest_rows(events: list[TaskEvent]) -> list[dict[str, Any]]:
    """One row per task: the highest version, and at equal version a delete (which carries the last version)."""
    newest: dict[int, dict[str, Any]] = {}
    for row in filter(None, map(projection_row, events)):
        held = newest.get(row["task_id"])
        if held is None or (held["version"], held["deleted"]) < (row["version"], row["deleted"]):
            newest[row["task_id"]] = row
    return list(newest.values())
