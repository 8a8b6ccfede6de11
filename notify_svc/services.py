"""What notify_svc does: turn task events into notifications exactly once, and let users read them."""
from __future__ import annotations

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert

from broker import topology
from taskwire_common.db import db
from taskwire_common.events import new_event
from taskwire_common.outbox import record_event

from .config import EVENT_SOURCE
from .models import Notification, ProcessedEvent
from .rules import notices_for
from .schemas import NotificationSchema


def notification_json(notification: Notification) -> dict:
    return NotificationSchema().dump(notification)


def claim_event(event_id: str) -> bool:
    """Record the event as processed in this transaction; False if it already was."""
    claimed = db.session.execute(
        insert(ProcessedEvent).values(event_id=event_id).on_conflict_do_nothing().returning(ProcessedEvent.event_id)
    ).first()
    return claimed is not None


def handle_task_event(event: dict) -> list[Notification]:
    """Store the event's notifications and their `notification.created` events in one transaction."""
    if not claim_event(event["id"]):
        db.session.rollback()
        return []
    notifications = [
        Notification(user=notice.user, message=notice.message, task_id=event["data"]["task"].get("id"),
                     event_type=event["type"], event_id=event["id"], is_read=False)
        for notice in notices_for(event)
    ]
    db.session.add_all(notifications)
    db.session.flush()
    for notification in notifications:
        db.session.refresh(notification)
        record_event(new_event(topology.NOTIFICATION_CREATED, EVENT_SOURCE,
                               {"notification": notification_json(notification)}, event.get("requestid")))
    db.session.commit()
    return notifications


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
    result = db.session.execute(
        update(Notification).where(Notification.user == user_id, Notification.is_read.is_(False))
        .values(is_read=True)
    )
    db.session.commit()
    return result.rowcount
