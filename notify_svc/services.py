"""What notify_svc does: turn task events into notifications exactly once, and let users read them."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import CursorResult, Insert, Select, Text, bindparam, cast as sql_cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert as upsert

from taskwire_common import contracts
from taskwire_common.db import db
from taskwire_common.outbox import PendingEvent, write_with_events

from .models import Notification, ProcessedEvent
from .rules import notices_for
from .schemas import NotificationSchema


def notification_json(notification: Notification) -> dict:
    return NotificationSchema().dump(notification)


def claim_events(event_ids: list[str]) -> set[str]:
    """Record the events as processed in this transaction; returns those not processed before."""
    claimed = db.session.execute(
        upsert(ProcessedEvent).values([{"event_id": event_id} for event_id in event_ids])
        .on_conflict_do_nothing().returning(ProcessedEvent.event_id))
    return set(claimed.scalars())


def handle_task_events(events: list[contracts.Event]) -> int:
    """Store the notifications of every event not seen before, and a `notification.created` for each,
    in one transaction; returns how many notifications that made. An event that notifies nobody needs no record:
    handling it twice changes nothing. A malformed event raises MalformedEvent."""
    unique = {event.id: event for event in (contracts.read_task_event(contracts.checked_envelope(e)) for e in events)}
    notices = {event_id: notices_for(event) for event_id, event in unique.items()}
    to_claim = [event_id for event_id, found in notices.items() if found]
    if not to_claim:
        return 0
    claimed = claim_events(to_claim)
    now = datetime.now(timezone.utc)  # this clock, so the event reads as a later GET
    rows: list[dict[str, Any]] = [
        {"user": notice.user, "message": notice.message, "task_id": unique[event_id].task_id,
         "event_type": unique[event_id].type, "event_id": event_id, "is_read": False, "created_at": now}
        for event_id in to_claim if event_id in claimed for notice in notices[event_id]]
    if not rows:
        db.session.commit()
        return 0
    notifications = [NotificationSchema().dump({**row, "id": None}) for row in rows]
    # One notification per user and task event: the pair names the row whose id goes into the event.
    pending = [PendingEvent(contracts.notification_created(notification, unique[row["event_id"]].request_id),
                            from_row={"data.notification.id": "id"},
                            row={"event_id": row["event_id"], "user": row["user"]})
               for row, notification in zip(rows, notifications, strict=True)]
    write_with_events(db.session.connection(), insert_notifications(rows), pending)
    db.session.commit()
    return len(rows)


NEW_COLUMNS = ("user", "message", "task_id", "event_type", "event_id", "is_read", "created_at")


def insert_notifications(rows: list[dict[str, Any]]) -> Insert:
    """INSERT … SELECT FROM unnest(one array per column) RETURNING the ids: the same statement for any
    number of rows, so SQLAlchemy compiles it once (VALUES with a tuple per row compiled anew per batch)."""
    table = Notification.__table__.c
    arrays = [sql_cast(bindparam(f"new_{name}", value=[row[name] for row in rows], type_=ARRAY(Text)),
                   ARRAY(table[name].type)) for name in NEW_COLUMNS]
    new = func.unnest(*arrays).table_valued(*NEW_COLUMNS).render_derived(name="new")
    return insert(Notification).from_select(list(NEW_COLUMNS), select(*new.c)).returning(
        Notification.id, Notification.event_id, Notification.user)


def users_notifications(user_id: int, is_read: bool | None = None) -> Select:
    query = select(Notification).where(Notification.user == user_id)
    if is_read is not None:
        query = query.where(Notification.is_read == is_read)
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def find_notification(user_id: int, notification_id: int) -> Notification | None:
    """The user's own notification; another user's is as good as missing."""
    return db.session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.user == user_id)
    ).scalar_one_or_none()


def unread_count(user_id: int) -> int:
    return db.session.execute(
        select(func.count()).where(Notification.user == user_id, Notification.is_read.is_(False))
    ).scalar_one()


def mark(notification: Notification, is_read: bool) -> Notification:
    notification.is_read = is_read
    db.session.commit()
    return notification


def mark_all_read(user_id: int) -> int:
    # Session.execute is typed to return a Result for any statement; an UPDATE without RETURNING
    # gets the CursorResult that has the rowcount.
    result = cast(CursorResult[*tuple[Any, ...]], db.session.execute(
        update(Notification).where(Notification.user == user_id, Notification.is_read.is_(False))
        .values(is_read=True)
    ))
    db.session.commit()
    return result.rowcount
