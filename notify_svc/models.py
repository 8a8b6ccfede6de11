"""notify_svc tables: notifications, the events already turned into them, and the shared outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Identity, Index, Integer, String, Text, Uuid, func, text
from sqlalchemy.orm import Mapped, mapped_column

from taskwire_common.db import Model
from taskwire_common.outbox import OutboxEvent  # noqa: F401  (part of this database's schema)


class Notification(Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user: Mapped[int] = mapped_column(Integer, nullable=False)  # a users_svc user id
    message: Mapped[str] = mapped_column(Text, nullable=False)
    is_read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    task_id: Mapped[int | None] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    event_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), nullable=False)

    __mapper_args__ = {"eager_defaults": True}  # created_at comes back in the INSERT's RETURNING
    __table_args__ = (
        Index("ix_notifications_user_created_at", "user", "created_at", "id"),
        Index("ix_notifications_user_unread", "user", postgresql_where=text("NOT is_read")),
    )


class ProcessedEvent(Model):
    """An event already turned into notifications: a redelivery finds it here and changes nothing."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                   server_default=func.now())
