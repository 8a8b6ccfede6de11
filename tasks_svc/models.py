"""tasks_svc tables: tasks, the local directory of users, and the shared outbox and idempotency keys."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Enum, Identity, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from taskwire_common.db import Model
from taskwire_common.idempotency_store import IdempotencyRecord  # noqa: F401  (part of this database's schema)
from taskwire_common.outbox import OutboxEvent  # noqa: F401  (part of this database's schema)

# PostgreSQL enums sort in declaration order, so `ordering=-priority` puts high first.
PRIORITIES = ("low", "medium", "high")
STATUSES = ("todo", "in_progress", "completed")


class Task(Model):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    priority: Mapped[str] = mapped_column(Enum(*PRIORITIES, name="task_priority"), nullable=False,
                                          default="medium")
    status: Mapped[str] = mapped_column(Enum(*STATUSES, name="task_status"), nullable=False, default="todo")
    due_date: Mapped[date | None] = mapped_column(Date)
    # User ids from users_svc; no foreign key across services, the directory below vouches for them.
    assigned_user: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    # 1 when made, one more with every change: the task's ETag, and in every event, so that a client
    # can tell a stale copy (412 on If-Match) and drop an event older than what it holds.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    # created_at and updated_at come back in the INSERT's RETURNING, not in a second query.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        # A user's list: their tasks by status, in due-date order.
        Index("ix_tasks_assigned_user_status_due_date", "assigned_user", "status", "due_date", "id"),
        Index("ix_tasks_assigned_user_due_date", "assigned_user", "due_date", "id"),
        # An admin's lists across everyone.
        Index("ix_tasks_status_due_date", "status", "due_date", "id"),
        Index("ix_tasks_due_date", "due_date", "id"),
        Index("ix_tasks_priority", "priority", "id"),
        Index("ix_tasks_updated_at", "updated_at", "id"),
        # q= searches title and description with trigrams (pg_trgm, created by the migration).
        Index("ix_tasks_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}),
        Index("ix_tasks_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"}),
    )


class DirectoryUser(Model):
    """What tasks_svc knows of a user: enough to check an assignee, fed by users_svc's `user.*` events."""

    __tablename__ = "directory_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(150), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # The users_svc version this row reflects; older news never overwrites newer.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
