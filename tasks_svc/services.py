"""What tasks_svc does: list, create, change and delete tasks under the permission rules, with their events."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

import orjson
from sqlalchemy import Select, bindparam, delete, insert, or_, select, update

from taskwire_common import contracts
from taskwire_common.auth import Principal
from taskwire_common.conditional import PreconditionFailed, Preconditions, etag
from taskwire_common.db import db
from taskwire_common.idempotency import Answer, RequestKey
from taskwire_common.idempotency_store import answer_once
from taskwire_common.outbox import Change, ChangeWithEvents, EventSlot, write_with_events
from taskwire_common.requestid import current_request_id

from .directory import ACTIVE_ASSIGNEE, find_active_user
from .models import Task
from .schemas import TaskSchema

WRITABLE = ("title", "description", "priority", "status", "due_date", "assigned_user")
DEFAULTS = {"description": "", "priority": "medium", "status": "todo", "due_date": None}


class Forbidden(Exception):
    """The caller may see the task but not make this change."""


class InvalidAssignee(Exception):
    """The assignee is not a known, active user."""


class TaskNotFound(Exception):
    """No task with that id, or not one the caller may see."""


# Creating is the hot write path, so its statements are built once: the task and its event, the
# id PostgreSQL gives the task written into the event.
INSERTED = (*WRITABLE, "created_by", "created_at", "updated_at", "version")
CREATE_TASK = ChangeWithEvents(insert(Task).values({name: bindparam(name) for name in INSERTED}).returning(Task.id),
                               [EventSlot(from_row={"data.task.id": "id"})])
# An admin's task for someone: inserted only if the directory knows that user as active, in the same
# statement (no row, no event: InvalidAssignee). A separate lookup first cost a third of a create's CPU
# in tasks_svc.
CREATE_ASSIGNED_TASK = ChangeWithEvents(
    insert(Task).from_select(INSERTED, select(*(bindparam(name, type_=Task.__table__.c[name].type)
                                                for name in INSERTED))
                             .where(ACTIVE_ASSIGNEE)).returning(Task.id),
    [EventSlot(from_row={"data.task.id": "id"})])


# One schema for every dump: a marshmallow schema keeps no state between dumps, and making one per
# call copied its fields each time (4 % of a create's CPU in tasks_svc).
TASK_JSON = TaskSchema()


def task_json(task: Task) -> dict:
    return TASK_JSON.dump(task)


def visible_tasks(principal: Principal) -> Select:
    """An admin sees every task; a user only those assigned to them."""
    query = select(Task)
    if not principal.is_admin:
        query = query.where(Task.assigned_user == principal.user_id)
    return query


def filtered_tasks(principal: Principal, filters: dict) -> tuple[Select, dict]:
    """The caller's tasks as plain rows: the select for this shape of request, and its parameters."""
    names = tuple(sorted(name for name in filters if name != "ordering"))
    params = {name: filters[name] for name in names}
    # A list of values is one parameter when it holds one value: `=` rather than `IN (…)`, whose values
    # SQLAlchemy expands into the statement on every run.
    several = tuple(name for name in names if isinstance(params[name], list) and len(params[name]) > 1)
    for name in names:
        if isinstance(params[name], list) and name not in several:
            params[name] = params[name][0]
    if "q" in params:
        params["q"] = "%" + params["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if not principal.is_admin:
        params["caller"] = principal.user_id
    return list_query(principal.is_admin, names, several, tuple(filters["ordering"])), params


@lru_cache(maxsize=1024)
def list_query(is_admin: bool, filters: tuple[str, ...], several: tuple[str, ...], ordering: tuple[str, ...]
               ) -> Select:
    """A task list's select for one shape of request (an admin's or a user's, these filters, those of them
    given several values, this ordering), a Core select (lists skip the ORM's per-object cost) whose values
    are bound parameters named after their filters, the caller's id `caller`.

    Built once per shape: building a select for every request cost about a tenth of a list's CPU, and
    SQLAlchemy finds the compiled form of a statement it has seen by the statement's memoized cache key.
    There are at most a few thousand shapes (the filters present, in order, and the orderings used).
    """
    query = select(*Task.__table__.columns)
    if not is_admin:
        query = query.where(Task.assigned_user == bindparam("caller"))
    for name in ("due_date", "priority", "status", "assigned_user"):
        if name in several:
            query = query.where(getattr(Task, name).in_(bindparam(name, expanding=True)))
        elif name in filters:
            query = query.where(getattr(Task, name) == bindparam(name))
    if "due_before" in filters:
        query = query.where(Task.due_date < bindparam("due_before"))
    if "due_after" in filters:
        query = query.where(Task.due_date > bindparam("due_after"))
    if "q" in filters:
        query = query.where(or_(Task.title.ilike(bindparam("q"), escape="\\"),
                                Task.description.ilike(bindparam("q"), escape="\\")))
    order = []
    for name in ordering:
        column = getattr(Task, name.lstrip("-"))
        order.append(column.desc() if name.startswith("-") else column.asc())
    return query.order_by(*order, Task.id.desc() if ordering[-1].startswith("-") else Task.id)


def find_task(principal: Principal, task_id: int, for_update: bool = False) -> Task | None:
    """The task if the caller may see it; another user's task is as good as missing.

    `for_update` locks its row until the transaction ends: a change reads, checks and writes the
    task while no other change can, so its preconditions and its event describe the version it replaces.
    """
    query = visible_tasks(principal).where(Task.id == task_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def task_to_change(principal: Principal, task_id: int, preconditions: Preconditions) -> Task:
    """The task, locked for a change the caller's preconditions allow; TaskNotFound or PreconditionFailed."""
    task = find_task(principal, task_id, for_update=True)
    if task is None:
        raise TaskNotFound()
    if not preconditions.allow_write(task.version):
        raise PreconditionFailed("task", task_json(task))
    return task


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


def actor(principal: Principal) -> contracts.Actor:
    return contracts.Actor(principal.user_id, principal.username)


def write(change: Change, events: list[contracts.Event]) -> list:
    """A change and its events as one statement, in the request's transaction (the caller commits)."""
    return list(write_with_events(db.session.connection(), change, events))


def create_task(principal: Principal, fields: dict, key: RequestKey | None = None) -> Answer:
    """Insert the task and its `task.created` event; answers 201 with the task, its ETag and Location.

    With an Idempotency-Key, a retry answers the first answer again and creates nothing (see
    taskwire_common.idempotency). Only the id comes from PostgreSQL, which writes it into the event;
    the rest of the task's JSON is dumped here like every other answer (PostgreSQL would write times
    differently, e.g. .12 where Python writes .120000). Its times come from this clock, as an
    update's `updated_at` does.
    """
    def create() -> Answer:
        assignee = fields.get("assigned_user")
        if assignee is None:
            assignee = default_assignee(principal)
        if not principal.is_admin and assignee != principal.user_id:
            raise Forbidden("You may only assign tasks to yourself.")
        now = datetime.now(timezone.utc)
        values = {**DEFAULTS, **fields, "assigned_user": assignee, "created_by": principal.user_id,
                  "created_at": now, "updated_at": now, "version": 1}
        task = TASK_JSON.dump({**values, "id": None})
        event = contracts.task_created(task, actor(principal), current_request_id())
        rows = create_statement(principal, assignee).execute(db.session.connection(), [event], values)
        if not rows:
            raise InvalidAssignee("No active user with that id.")
        task["id"] = rows[0].id
        return Answer(201, orjson.dumps(task), {"Location": f"/api/tasks/{task['id']}/", "ETag": etag(1)})

    return answer_once(key, create)


def create_statement(principal: Principal, assignee: int | None) -> ChangeWithEvents:
    """An admin's task for someone checks the assignee in the statement; a user's own task, or nobody's, need not
    (a user's token is checked against the accounts users_svc keeps, which the directory may still lag behind)."""
    return CREATE_ASSIGNED_TASK if principal.is_admin and assignee is not None else CREATE_TASK


def replace_task(principal: Principal, task_id: int, fields: dict, preconditions: Preconditions) -> dict:
    """PUT: every writable field is set; those left out take their defaults."""
    full = {**DEFAULTS, **fields}
    full.setdefault("assigned_user", default_assignee(principal))
    if full["assigned_user"] is None and not principal.is_admin:
        full["assigned_user"] = principal.user_id
    return update_task(principal, task_id, full, preconditions)


def update_task(principal: Principal, task_id: int, changes: dict, preconditions: Preconditions) -> dict:
    """Apply the changes; if anything really changed, stamp it, raise its version and publish one `task.updated`.

    Returns the task JSON after the change. The row stays locked from the read to the commit, so
    concurrent changes apply one after the other, each to the version the one before left.
    """
    task = task_to_change(principal, task_id, preconditions)
    if "assigned_user" in changes and changes["assigned_user"] != task.assigned_user:
        check_assignee(principal, changes["assigned_user"])
    current = {column.key: getattr(task, column.key) for column in Task.__table__.columns}
    wanted = {name: changes[name] for name in WRITABLE if name in changes}
    before, requested = task_json(task), TASK_JSON.dump({**current, **wanted})
    diff = {name: [before[name], requested[name]] for name in WRITABLE if before[name] != requested[name]}
    if not diff:
        return before
    now = datetime.now(timezone.utc)
    after = TASK_JSON.dump({**current, **wanted, "updated_at": now, "version": task.version + 1})
    event = contracts.task_updated(after, diff, actor(principal), current_request_id())
    write(update(Task).where(Task.id == task.id)
          .values({**{name: wanted[name] for name in diff}, "updated_at": now, "version": after["version"]})
          .returning(Task.id), [event])
    db.session.commit()
    return after


def delete_task(principal: Principal, task_id: int, preconditions: Preconditions) -> None:
    """Delete the task and publish `task.deleted` with the task as it was (its last version)."""
    task = task_to_change(principal, task_id, preconditions)
    event = contracts.task_deleted(task_json(task), actor(principal), current_request_id())
    write(delete(Task).where(Task.id == task.id).returning(Task.id), [event])
    db.session.commit()
