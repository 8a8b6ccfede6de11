"""What notify_svc does: turn task events into notifications exactly once, and let users read them."""
from __future__ import annotations

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert

from broker import topology
from taskwire_common.db import db
from taskwire_common.events import new_event
from taskwire_common.outbox import record_events

from .config import EVENT_SOURCE
from .models import Notification, ProcessedEvent
from .rules import notices_for
from .schemas import NotificationSchema


def notification_json(notification: Notification) -> dict:
    return NotificationSchema().dump(notification)


def claim_events(event_ids: list[str]) -> set[str]:
    """Record the events as processed in this transaction; returns those not processed before."""
    claimed = db.session.execute(
        insert(ProcessedEvent).values([{"event_id": event_id} for event_id in event_ids])
        .on_conflict_do_nothing().returning(ProcessedEvent.event_id))
    return set(claimed.scalars())


def handle_task_events(events: list[dict]) -> list[Notification]:
    """Store the notifications of every event not seen before, and a `notification.created` for each,
    in one transaction. An event that notifies nobody needs no record: handling it twice changes nothing."""
    unique = {event["id"]: event for event in events}
    notices = {event_id: notices_for(event) for event_id, event in unique.items()}
    to_claim = [event_id for event_id, found in notices.items() if found]
    if not to_claim:
        return []
    claimed = claim_events(to_claim)
    notifications = [
        Notification(user=notice.user, message=notice.message, task_id=unique[event_id]["data"]["task"].get("id"),
                     event_type=unique[event_id]["type"], event_id=event_id, is_read=False)
        for event_id in to_claim if event_id in claimed for notice in notices[event_id]
    ]
    db.session.add_all(notifications)
    db.session.flush()
    record_events([new_event(topology.NOTIFICATION_CREATED, EVENT_SOURCE,
                             {"notification": notification_json(notification)},
                             unique[notification.event_id].get("requestid"))
                   for notification in notifications])
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
