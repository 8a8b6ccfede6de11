"""What notify_svc does: turn task events into notifications exactly once, and let users read them."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Select, bindparam, func, select, update

from taskwire_common import contracts
from taskwire_common.db import db

from .intake import take_in
from .models import Notification
from .notices import NOTIFICATION, record_notices
from .projection import newest_rows
from .rules import audible, notices_for
from .schemas import NotificationSchema


def notification_json(notification: Notification) -> dict:
    return NOTIFICATION.dump(notification)


def handle_task_events(events: list[contracts.Event]) -> int:
    """Keep the task projection, and store the notifications of every event not seen before (folding quick updates
    into the one they follow), each with its event, in one transaction; returns how many notifications that made
    or changed. An event that notifies nobody needs no record: handling it twice changes nothing. One whose every
    notice is muted is recorded all the same (the claim and the muted kinds are read together). A malformed
    event raises MalformedEvent."""
    unique = {event.id: event for event in (contracts.read_task_event(contracts.checked_envelope(e)) for e in events)}
    found = {event_id: notices for event_id, event in unique.items() if (notices := notices_for(event))}
    claimed, muted = take_in(newest_rows(list(unique.values())), list(found),
                             {notice.user for notices in found.values() for notice in notices})
    made = record_notices([(unique[event_id], notice) for event_id, notices in found.items()
                           if event_id in claimed for notice in audible(notices, muted)])
    db.session.commit()
    return made


def users_notifications(user_id: int, is_read: bool | None = None) -> tuple[Select, dict[str, Any]]:
    """The user's notifications, newest first, as rows of exactly the API's fields: a select built once per
    filter (its values bound parameters) and its parameters (see taskwire_common.pagination.fetch_rows_page)."""
    params: dict[str, Any] = {"caller": user_id}
    if is_read is not None:
        params["is_read"] = is_read
    return notification_rows(is_read is not None), params


@lru_cache(maxsize=2)
def notification_rows(by_read_state: bool) -> Select:
    query = select(*(Notification.__table__.c[name] for name in NotificationSchema().fields)) \
        .where(Notification.user == bindparam("caller"))
    if by_read_state:
        query = query.where(Notification.is_read == bindparam("is_read"))
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
