"""Who may see an event, and the message a client receives for it: pure functions."""
from __future__ import annotations

import json
from dataclasses import dataclass

TASK_ACTIONS = {"task.created": "task_created", "task.updated": "task_updated", "task.deleted": "task_deleted"}


@dataclass(frozen=True)
class Audience:
    """The users an event is for; admins see every task event besides."""

    users: frozenset[int]
    all_admins: bool
    is_task_event: bool


def audience_of(event: dict) -> Audience | None:
    """None for events no client is shown."""
    data = event.get("data") or {}
    if event.get("type") in TASK_ACTIONS:
        users = {data["task"].get("assigned_user")}
        old_assignee = (data.get("changes") or {}).get("assigned_user")
        if old_assignee:
            users.add(old_assignee[0])  # the user it was taken from learns of it too
        return Audience(frozenset(u for u in users if u is not None), all_admins=True, is_task_event=True)
    if event.get("type") == "notification.created":
        return Audience(frozenset({data["notification"]["user"]}), all_admins=False, is_task_event=False)
    return None


def client_message(event: dict) -> str:
    """The JSON text clients of the Django system already parse, plus event_id and occurred_at."""
    if event["type"] in TASK_ACTIONS:
        body = {"type": "task_update", "action": TASK_ACTIONS[event["type"]], "task": event["data"]["task"]}
    else:
        body = {"type": "notification", "notification": event["data"]["notification"]}
    body.update(event_id=event["id"], occurred_at=event["time"])
    return json.dumps(body, separators=(",", ":"))
