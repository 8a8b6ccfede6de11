"""Due-date reminders: each worker scans notify_svc's task projection and sends each reminder once.

Exactly once per (task, kind, due date), whichever worker scans and however often: a reminder is
claimed by inserting its key into `sent_reminders` (ON CONFLICT DO NOTHING) in the same transaction
as its notification and that notification's outbox event. A second worker that races for the same
key waits for the first to commit and then claims nothing; a scan that fails rolls its claims back
with everything else, so the next scan sends them. The outbox publishes the events, broker up or down.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import case, exists, literal, select
from sqlalchemy.dialects.postgresql import insert as upsert

from taskwire_common.clock import app_clock
from taskwire_common.db import db

from .models import SentReminder, TaskProjection
from .notices import notification_row, write_new_notifications
from .preferences import muted_kinds
from .rules import DUE_SOON, OVERDUE, REMINDER_EVENT_TYPES, last_due_date_reminded, reminder_kind, reminder_message

log = logging.getLogger(__name__)

SCAN_BATCH = 500  # reminders claimed per transaction


@dataclass(frozen=True)
class DueReminder:
    """A reminder due for an open, assigned task with a due date."""

    task_id: int
    user: int
    kind: str
    due_date: date
    title: str
    priority: str

    @property
    def key(self) -> tuple[int, str, date]:
        return self.task_id, self.kind, self.due_date


def open_tasks_due(now: datetime, lead: timedelta, limit: int) -> list[DueReminder]:
    """Open, assigned tasks with a reminder due at `now` that nobody has claimed yet, and that reminder's kind."""
    overdue_from = last_due_date_reminded(now, timedelta(0))  # due at D+1 00:00 <= now
    claimed = exists().where(SentReminder.task_id == TaskProjection.task_id,
                             SentReminder.due_date == TaskProjection.due_date,
                             SentReminder.kind == _kind_of_due_date(overdue_from))
    rows = db.session.execute(
        select(TaskProjection)
        .where(TaskProjection.deleted.is_(False), TaskProjection.status != "completed",
               TaskProjection.assignee.is_not(None), TaskProjection.due_date <= last_due_date_reminded(now, lead),
               ~claimed)
        .order_by(TaskProjection.due_date, TaskProjection.task_id).limit(limit)).scalars().all()
    found = []
    for task in rows:
        kind = reminder_kind(task.due_date, now, lead) if task.due_date else None
        if kind and task.due_date and task.assignee is not None:
            found.append(DueReminder(task.task_id, task.assignee, kind, task.due_date, task.title, task.priority))
    return found


def _kind_of_due_date(overdue_from: date) -> Any:
    """SQL: the reminder kind a projected task's due date calls for (overdue up to `overdue_from`)."""
    return case((TaskProjection.due_date <= literal(overdue_from), OVERDUE), else_=DUE_SOON)


def claim_reminders(due: list[DueReminder], muted: dict[int, set[str]], now: datetime) -> set[tuple[int, str, date]]:
    """Insert the reminders' keys; returns those this transaction claimed (another's are left out)."""
    rows = [{"task_id": item.task_id, "kind": item.kind, "due_date": item.due_date, "user": item.user,
             "muted": item.kind in muted.get(item.user, ()), "sent_at": now} for item in due]
    claimed = db.session.execute(upsert(SentReminder).values(rows).on_conflict_do_nothing()
                                 .returning(SentReminder.task_id, SentReminder.kind, SentReminder.due_date))
    return {tuple(row) for row in claimed}  # type: ignore[misc]


def send_due_reminders_batch(now: datetime, lead: timedelta, limit: int = SCAN_BATCH) -> tuple[int, int]:
    """Claim and send one batch in one transaction; returns (reminders found, notifications sent)."""
    due = open_tasks_due(now, lead, limit)
    if not due:
        db.session.rollback()
        return 0, 0
    muted = muted_kinds({item.user for item in due})
    claimed = claim_reminders(due, muted, now)
    rows = [notification_row(user=item.user, kind=item.kind, task_id=item.task_id,
                             message=reminder_message(item.kind, item.title, item.priority, item.due_date),
                             event_type=REMINDER_EVENT_TYPES[item.kind], event_id=str(uuid.uuid4()), created_at=now)
            for item in due if item.key in claimed and item.kind not in muted.get(item.user, ())]
    sent = write_new_notifications(rows)
    db.session.commit()
    return len(due), sent


def send_due_reminders(now: datetime | None = None) -> int:
    """Every reminder due at `now` (the app's clock by default) not sent before; returns how many were sent."""
    now = now or app_clock()()
    lead = timedelta(hours=current_app.config["TASKWIRE_SETTINGS"].reminder_lead_hours)
    total = 0
    while True:
        found, sent = send_due_reminders_batch(now, lead)
        total += sent
        if found < SCAN_BATCH:
            return total


class ReminderScanner:
    """Sends due reminders every REMINDER_SCAN_SECONDS, in a thread of each notify worker process."""

    def __init__(self, app: Flask):
        self.app = app
        self.period = app.config["TASKWIRE_SETTINGS"].reminder_scan_seconds
        self.stop = threading.Event()

    def run(self) -> None:
        log.info("sending due-date reminders every %s s", self.period)
        while not self.stop.is_set():
            self.scan()
            self.stop.wait(self.period)

    def scan(self) -> None:
        with self.app.app_context():
            try:
                sent = send_due_reminders()
            except Exception as error:  # the database may be down; the next scan tries again
                db.session.rollback()
                log.warning("reminder scan failed (%s: %s); retrying in %s s", type(error).__name__, error,
                            self.period)
                return
        if sent:
            log.info("sent %d due-date reminders", sent)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="reminder-scanner", daemon=True)
        thread.start()
        return thread
