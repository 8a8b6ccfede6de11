"""What tasks_svc does: list, create, change and delete tasks under the permission rules, with their events."""
from __future__ import annotations

from datetime import datetime, timezone

import orjson
from sqlalchemy import Select, or_, select, text

from broker import topology
from taskwire_common.auth import Principal
from taskwire_common.db import db
from taskwire_common.events import new_event
from taskwire_common.outbox import record_event
from taskwire_common.requestid import current_request_id

from .config import EVENT_SOURCE
from .directory import find_active_user
from .models import Task
from .schemas import TaskSchema

WRITABLE = ("title", "description", "priority", "status", "due_date", "assigned_user")
DEFAULTS = {"description": "", "priority": "medium", "status": "todo", "due_date": None}


class Forbidden(Exception):
    """The caller may see the task but not make this change."""


class InvalidAssignee(Exception):
    """The assignee is not a known, active user."""


# Creating is the hot write path: the task and its event in one statement, so one round trip,
# atomic without BEGIN and COMMIT. Only the id comes from PostgreSQL, which writes it into the
# event; the rest of the task's JSON is dumped here like every other answer (PostgreSQL would
# write times differently, e.g. .12 where Python writes .120000).
CREATE_TASK_WITH_EVENT = text("""
    WITH task AS (
        INSERT INTO tasks (title, description, priority, status, due_date, assigned_user, created_by,
                           created_at, updated_at)
        VALUES (:title, :description, :priority, :status, :due_date, :assigned_user, :created_by,
                :created_at, :created_at)
        RETURNING id
    ), event AS (
        INSERT INTO outbox_events (event_id, routing_key, payload)
        SELECT :event_id, :routing_key, jsonb_set(CAST(:event AS jsonb), '{data,task,id}', to_jsonb(task.id))
        FROM task
    )
    SELECT id FROM task
""")


def task_json(task: Task) -> dict:
    return TaskSchema().dump(task)


def visible_tasks(principal: Principal, query: Select | None = None) -> Select:
    """An admin sees every task; a user only those assigned to them."""
    query = select(Task) if query is None else query
    if not principal.is_admin:
        query = query.where(Task.assigned_user == principal.user_id)
    return query


def filtered_tasks(principal: Principal, filters: dict) -> Select:
    """The caller's tasks as plain rows (a Core select: lists skip the ORM's per-object cost)."""
    query = visible_tasks(principal, select(*Task.__table__.columns))
    for name in ("due_date", "priority", "status", "assigned_user"):
        if name in filters:
            query = query.where(getattr(Task, name).in_(filters[name]))
    if "due_before" in filters:
        query = query.where(Task.due_date < filters["due_before"])
    if "due_after" in filters:
        query = query.where(Task.due_date > filters["due_after"])
    if "q" in filters:
        pattern = "%" + filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Task.title.ilike(pattern, escape="\\"),
                                Task.description.ilike(pattern, escape="\\")))
    order = []
    for name in filters["ordering"]:
        column = getattr(Task, name.lstrip("-"))
        order.append(column.desc() if name.startswith("-") else column.asc())
    return query.order_by(*order, Task.id.desc() if filters["ordering"][-1].startswith("-") else Task.id)


def find_task(principal: Principal, task_id: int) -> Task | None:
    """The task if the caller may see it; another user's task is as good as missing."""
    return db.session.execute(visible_tasks(principal).where(Task.id == task_id)).scalar_one_or_none()


def check_assignee(principal: Principal, assignee: int | None) -> None:
    """A user may only assign to themselves; an admin to any active user, or to nobody."""
    if not principal.is_admin:
        if assignee != principal.user_id:
            raise Forbidden("You may only assign tasks to yourself.")
        return
    if assignee is not None and find_active_user(assignee) is None:
        raise InvalidAssignee("No active user with that id.")


def default_assignee(principal: Principal) -> int | None:
    return None if principal.is_admin else principal.user_id


def task_event(event_type: str, principal: Principal, data: dict) -> dict:
    data = {**data, "actor_id": principal.user_id, "actor_username": principal.username}
    return new_event(event_type, EVENT_SOURCE, data, current_request_id())


def publish(event_type: str, principal: Principal, data: dict) -> None:
    record_event(task_event(event_type, principal, data))


def create_task(principal: Principal, fields: dict) -> dict:
    """Insert the task and its `task.created` event with one statement; returns the task JSON.

    Its times come from this clock, as an update's `updated_at` does.
    """
    assignee = fields.get("assigned_user")
    if assignee is None:
        assignee = default_assignee(principal)
    check_assignee(principal, assignee)
    values = {**fields, "assigned_user": assignee, "created_by": principal.user_id,
              "created_at": datetime.now(timezone.utc)}
    task = TaskSchema().dump({**values, "id": None, "updated_at": values["created_at"]})
    event = task_event(topology.TASK_CREATED, principal, {"task": task})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        task["id"] = connection.execute(CREATE_TASK_WITH_EVENT, {
            **values, "event_id": event["id"], "routing_key": event["type"], "event": orjson.dumps(event).decode(),
        }).scalar_one()
    return task


def replace_task(principal: Principal, task: Task, fields: dict) -> Task:
    """PUT: every writable field is set; those left out take their defaults."""
    full = {**DEFAULTS, **fields}
    full.setdefault("assigned_user", default_assignee(principal))
    if full["assigned_user"] is None and not principal.is_admin:
        full["assigned_user"] = principal.user_id
    return update_task(principal, task, full)


def update_task(principal: Principal, task: Task, changes: dict) -> Task:
    """Apply the changes; if anything really changed, stamp it and publish one `task.updated`."""
    if "assigned_user" in changes and changes["assigned_user"] != task.assigned_user:
        check_assignee(principal, changes["assigned_user"])
    before = task_json(task)
    for name in WRITABLE:
        if name in changes:
            setattr(task, name, changes[name])
    after = task_json(task)
    diff = {name: [before[name], after[name]] for name in WRITABLE if before[name] != after[name]}
    if not diff:
        db.session.rollback()
        return task
    task.updated_at = datetime.now(timezone.utc)
    db.session.flush()
    publish(topology.TASK_UPDATED, principal, {"task": task_json(task), "changes": diff})
    db.session.commit()
    return task


def delete_task(principal: Principal, task: Task) -> None:
    publish(topology.TASK_DELETED, principal, {"task": task_json(task)})
    db.session.delete(task)
    db.session.commit()
