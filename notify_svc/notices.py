"""Notices become notification rows and their events: a new row each, or an update folded into an earlier one."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import current_app
from sqlalchemy import Insert, Text, bindparam, cast as sql_cast, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from taskwire_common import contracts
from taskwire_common.clock import app_clock
from taskwire_common.db import db
from taskwire_common.outbox import ChangeWithRowEvents, write_with_events

from .models import Notification
from .rules import UPDATED, Notice, updated_message
from .schemas import NotificationSchema

# Made once: a schema's construction (deep copies of its fields) cost as much as the dump of one row.
NOTIFICATION = NotificationSchema()

NEW_COLUMNS = ("user", "message", "task_id", "event_type", "event_id", "is_read", "created_at", "kind", "count",
               "actor_id", "change_notes", "last_changed_at")


def notification_row(*, user: int, kind: str, message: str, task_id: int | None, event_type: str, event_id: str,
                     created_at: datetime, request_id: str | None = None, actor_id: int | None = None,
                     change_notes: list[str] | None = None, last_changed_at: datetime | None = None
                     ) -> dict[str, Any]:
    """A new notification's columns (and the request id its event carries)."""
    return {"user": user, "kind": kind, "message": message, "task_id": task_id, "event_type": event_type,
            "event_id": event_id, "is_read": False, "created_at": created_at, "count": 1, "actor_id": actor_id,
            "change_notes": json.dumps(change_notes) if change_notes is not None else None,
            "last_changed_at": last_changed_at, "request_id": request_id}


def insert_notifications() -> Insert:
    """INSERT … SELECT FROM unnest(one array per column) RETURNING the ids: the same statement for any
    number of rows, so it is built and compiled once (VALUES with a tuple per row compiled anew per batch)."""
    table = Notification.__table__.c
    arrays = [sql_cast(bindparam(f"new_{name}", type_=ARRAY(Text)), ARRAY(table[name].type)) for name in NEW_COLUMNS]
    new = func.unnest(*arrays).table_valued(*NEW_COLUMNS).render_derived(name="new")
    return insert(Notification).from_select(list(NEW_COLUMNS), select(*new.c)).returning(
        Notification.id, Notification.event_id, Notification.user)


# One notification per user and event id: the pair names the row whose id goes into its event.
NEW_NOTIFICATIONS = ChangeWithRowEvents(insert_notifications(), from_row={"data.notification.id": "id"},
                                        match=("event_id", "user"))


def write_new_notifications(rows: list[dict[str, Any]]) -> int:
    """Insert the rows and a `notification.created` for each, in one statement of this transaction."""
    if not rows:
        return 0
    events = [contracts.notification_created(NOTIFICATION.dump({**row, "id": None}), row["request_id"]) for row in rows]
    NEW_NOTIFICATIONS.execute(db.session.connection(), events, rows,
                              {f"new_{name}": [row[name] for row in rows] for name in NEW_COLUMNS})
    return len(rows)


def event_time(event: contracts.TaskEvent) -> datetime:
    """When the change was made: the event's own time (so a backlog read late still folds by when edits were made,
    and a redelivery reads the same); the worker's clock only for an event without a readable time."""
    try:
        made_at = datetime.fromisoformat(event.time)
    except ValueError:
        return app_clock()()
    return made_at if made_at.tzinfo else made_at.replace(tzinfo=timezone.utc)


def record_notices(found: list[tuple[contracts.TaskEvent, Notice]]) -> int:
    """Store the notices, in order: an update folds into the earlier notification it follows where it may,
    any other notice is a new row. Returns how many notifications were made or changed."""
    lock_foldable(found)
    created_at = app_clock()()  # this clock, so the event reads as a later GET
    waiting: list[dict[str, Any]] = []
    made = 0
    for event, notice in found:
        if notice.kind == UPDATED:
            made += write_new_notifications(waiting)  # a row made earlier in this batch may be folded into
            waiting = []
            if fold_into_earlier(event, notice):
                made += 1
                continue
        waiting.append(notification_row(
            user=notice.user, kind=notice.kind, message=notice.message, task_id=event.task_id,
            event_type=event.type, event_id=event.id, created_at=created_at, request_id=event.request_id,
            actor_id=event.actor_id, change_notes=[notice.change_note] if notice.change_note else None,
            last_changed_at=event_time(event)))
    return made + write_new_notifications(waiting)


def lock_foldable(found: list[tuple[contracts.TaskEvent, Notice]]) -> None:
    """Two workers handling updates of one user's task at once take turns (in one order, so never deadlock):
    the second sees the first's row and folds into it instead of making a second."""
    keys = sorted({f"notify-fold:{notice.user}:{event.task_id}" for event, notice in found if notice.kind == UPDATED})
    for key in keys:
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def fold_into_earlier(event: contracts.TaskEvent, notice: Notice) -> bool:
    """Fold the update into the user's unread notification of the same task's updates by the same actor whose last
    change is within NOTIFY_COALESCE_SECONDS of this one, publishing it again (same id) as `notification.updated`."""
    window = timedelta(seconds=current_app.config["TASKWIRE_SETTINGS"].notify_coalesce_seconds)
    if not window or event.actor_id is None or notice.change_note is None:
        return False
    changed_at = event_time(event)
    earlier = db.session.execute(
        select(Notification.id, Notification.created_at, Notification.count.label("folded"), Notification.change_notes,
               Notification.event_type, Notification.last_changed_at)
        .where(Notification.user == notice.user, Notification.task_id == event.task_id,
               Notification.actor_id == event.actor_id, Notification.kind == UPDATED,
               Notification.is_read.is_(False), Notification.last_changed_at.between(changed_at - window,
                                                                                   changed_at + window))
        .order_by(Notification.id.desc()).limit(1).with_for_update()).one_or_none()
    if earlier is None:
        return False
    notes = [*(earlier.change_notes or []), notice.change_note]
    folded = {"message": updated_message(event.actor_username, event.task["title"], notes), "count": earlier.folded + 1,
              "change_notes": notes, "last_changed_at": max(earlier.last_changed_at, changed_at)}
    notification = NOTIFICATION.dump({
        "id": earlier.id, "user": notice.user, "is_read": False, "created_at": earlier.created_at,
        "task_id": event.task_id, "event_type": earlier.event_type, "kind": UPDATED, **folded})
    write_with_events(db.session.connection(),
                      update(Notification).where(Notification.id == earlier.id).values(**folded)
                      .returning(Notification.id),
                      [contracts.notification_updated(notification, event.request_id)])
    return True
