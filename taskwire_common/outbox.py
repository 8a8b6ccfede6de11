"""Transactional outbox: an event row written in the same transaction as the change it describes."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Uuid, func, insert, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .db import db

NOTIFY_CHANNEL = "taskwire_outbox"


class OutboxEvent(db.Model):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), unique=True, nullable=False)
    routing_key: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_outbox_events_pending", "id", postgresql_where=text("published_at IS NULL")),
    )


# A trigger, not a call in the code, wakes the relay: no write can forget it, and it costs no
# extra round trip. NOTIFY is transactional, so the relay wakes exactly when the change commits.
# Migrations run these; never edit them in place (a change is a new trigger and a new migration).
CREATE_NOTIFY_TRIGGER = f"""
CREATE FUNCTION taskwire_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION taskwire_outbox_notify();
"""
DROP_NOTIFY_TRIGGER = """
DROP TRIGGER outbox_events_notify ON outbox_events;
DROP FUNCTION taskwire_outbox_notify();
"""


# One Core statement, built once: SQLAlchemy compiles it once, and no ORM bulk-insert layer runs.
INSERT_EVENT = insert(OutboxEvent.__table__)


def record_event(event: dict) -> None:
    """Write the event in the current transaction; it is published only if that transaction commits."""
    record_events([event])


def record_events(events: list[dict]) -> None:
    """Write several events in the current transaction, in this order."""
    if events:
        db.session.execute(INSERT_EVENT, [{"event_id": event["id"], "routing_key": event["type"],
                                           "payload": event} for event in events])


def outbox_lag() -> dict:
    """How far the relay is behind: pending events and the age of the oldest, for health output."""
    pending, oldest = db.session.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))
    ).one()
    age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
    return {"pending": pending, "oldest_pending_age_seconds": round(age, 3)}


def outbox_health() -> tuple[bool, dict]:
    """The relay's lag for /healthz; never unhealthy by itself, since the API works while events wait."""
    return True, outbox_lag()
