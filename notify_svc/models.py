"""notify_svc tables: notifications, the events already turned into them, reminders, preferences, the outbox."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Identity, Index, Integer, String, Text, Uuid, func, text
from sqlalchemy.dialects.postgresql import JSONB
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
    kind: Mapped[str] = mapped_column(String(20), nullable=False, server_default="updated")
    count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # What coalescing matches and rebuilds the message from: who made the changes, each change's words,
    # and when (the task event's own time) the last one was made.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    change_notes: Mapped[list[str] | None] = mapped_column(JSONB)
    last_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"eager_defaults": True}  # created_at comes back in the INSERT's RETURNING
    __table_args__ = (
        Index("ix_notifications_user_created_at", "user", "created_at", "id"),
        Index("ix_notifications_user_unread", "user", postgresql_where=text("NOT is_read")),
        Index("ix_notifications_foldable", "user", "task_id",
              postgresql_where=text("NOT is_read AND kind = 'updated'")),
    )


class ProcessedEvent(Model):
    """An event already turned into notifications: a redelivery finds it here and changes nothing."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                   server_default=func.now())


class TaskProjection(Model):
    """What reminders need of a task, from its events; the highest version wins, a delete at equal version too."""

    __tablename__ = "task_projections"

    task_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    priority: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    assignee: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_task_projections_open_due", "due_date",
              postgresql_where=text("NOT deleted AND status <> 'completed' AND assignee IS NOT NULL")),
    )


class SentReminder(Model):
    """A reminder claimed: its key is what makes each (task, kind, due date) send once, whichever worker scans."""

    __tablename__ = "sent_reminders"

    task_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    user: Mapped[int] = mapped_column(Integer, nullable=False)
    muted: Mapped[bool] = mapped_column(Boolean, nullable=False)  # claimed, but the user had muted the kind
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class MutedKind(Model):
    """A kind of notification a user turned off; no row means on (the default)."""

    __tablename__ = "muted_kinds"

    user: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
