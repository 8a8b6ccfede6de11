"""Transactional outbox: an event row written in the same transaction as the change it describes."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Uuid, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .db import db

# NOTIFY is transactional: the relay is woken exactly when the change commits.
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


def record_event(event: dict) -> None:
    """Add the event to the current transaction; it is published only if that transaction commits."""
    db.session.add(OutboxEvent(event_id=event["id"], routing_key=event["type"], payload=event))
    db.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


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
