"""Due-date reminders on a real PostgreSQL: each (task, kind, due date) once, whoever scans and whatever fails."""
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from notify_svc import reminders
from notify_svc.reminders import ReminderScanner, send_due_reminders
from taskwire_common.db import db
from tests.integration.notify_svc.conftest import task_event
from tests.support import wait_for

# Task 9 is due 2026-12-02: due at 2026-12-03 00:00 UTC, so due soon from 2026-12-02 00:00 (24 h lead).
BEFORE_LEAD = datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc)
DUE_SOON = datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc)
OVERDUE = datetime(2026, 12, 3, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def scan(notify_db, clock):
    def scan_(at=None):
        if at is not None:
            clock.now = at
        with notify_db.app_context():
            return send_due_reminders()
    return scan_


@pytest.fixture
def sent(notify_db):
    """(user, kind, task id, event type, message) of every reminder notification, oldest first."""
    def read():
        with notify_db.app_context():
            return [tuple(row) for row in db.session.execute(text(
                "SELECT \"user\", kind, task_id, event_type, message FROM notifications "
                "WHERE kind IN ('due_soon', 'overdue') ORDER BY id"))]
    return read


def test_due_soon_once_then_overdue_once(handle, scan, sent, outbox):
    handle(task_event())
    assert scan(BEFORE_LEAD) == 0
    assert scan(DUE_SOON) == 1
    assert scan() == 0
    assert scan(OVERDUE) == 1
    assert scan() == 0
    assert sent() == [(2, "due_soon", 9, "reminder.due_soon", "'Fix login' is due soon: due 2026-12-02 (high)"),
                      (2, "overdue", 9, "reminder.overdue", "'Fix login' is overdue: it was due 2026-12-02 (high)")]
    published = [(key, n["kind"], n["user"], n["count"]) for key, n in outbox() if n["kind"] != "assigned"]
    assert published == [("notification.created", "due_soon", 2, 1), ("notification.created", "overdue", 2, 1)]


def test_a_task_already_past_due_gets_overdue_only(handle, scan, sent):
    handle(task_event(due_date="2026-11-20"))
    assert scan(DUE_SOON) == 1
    assert [row[1] for row in sent()] == ["overdue"]


def test_changing_the_due_date_rearms_the_reminders(handle, scan, sent):
    handle(task_event())
    assert scan(DUE_SOON) == 1
    handle(task_event("updated", version=2, due_date="2026-12-04", changes={"due_date": ["2026-12-02", "2026-12-04"]}))
    assert scan(OVERDUE) == 0  # the new date is not due soon yet
    assert scan(datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)) == 1
    assert [(row[1], row[4].split("due ")[-1]) for row in sent()] == [
        ("due_soon", "2026-12-02 (high)"), ("due_soon", "2026-12-04 (high)")]


@pytest.mark.parametrize("cancel", [
    task_event("updated", version=2, status="completed", changes={"status": ["todo", "completed"]}),
    task_event("updated", version=2, assigned_user=None, changes={"assigned_user": [2, None]}),
    task_event("deleted", version=1),
], ids=["completed", "unassigned", "deleted"])
def test_completing_unassigning_or_deleting_cancels_them(handle, scan, sent, cancel):
    handle(task_event())
    handle(cancel)
    assert scan(DUE_SOON) == 0
    assert scan(OVERDUE) == 0
    assert sent() == []


def test_a_reassignment_moves_them_to_the_new_assignee(handle, scan, sent):
    handle(task_event())
    handle(task_event("updated", version=2, assigned_user=3, changes={"assigned_user": [2, 3]}))
    assert scan(DUE_SOON) == 1
    assert [(row[0], row[1]) for row in sent()] == [(3, "due_soon")]


def test_an_older_or_repeated_event_does_not_regress_the_projection(handle, scan, sent):
    completed = task_event("updated", version=3, status="completed", changes={"status": ["todo", "completed"]})
    handle(completed)
    handle(task_event("updated", version=2, changes={"priority": ["low", "high"]}))  # arrives late
    handle(task_event(version=1), completed)
    assert scan(OVERDUE) == 0
    with_delete = [task_event("deleted", version=4), task_event("updated", version=4)]
    handle(*with_delete)
    handle(task_event("updated", version=4, status="todo"))
    assert scan(OVERDUE) == 0 and sent() == []


def test_two_scanners_racing_on_the_same_reminders_send_each_once(notify_db, handle, clock, sent, monkeypatch):
    handle(*[task_event(id=number) for number in range(1, 21)])
    clock.now = DUE_SOON
    claimed, release = threading.Event(), threading.Event()
    real_write = reminders.write_new_notifications

    def write_then_hold(rows):  # the first scanner holds its claims, uncommitted, until released
        written = real_write(rows)
        if threading.current_thread().name == "first":
            claimed.set()
            release.wait(10)
        return written

    monkeypatch.setattr(reminders, "write_new_notifications", write_then_hold)
    results = {}

    def run_scan():
        with notify_db.app_context():
            results[threading.current_thread().name] = send_due_reminders()

    first = threading.Thread(target=run_scan, name="first")
    first.start()
    assert claimed.wait(10)
    second = threading.Thread(target=run_scan, name="second")
    second.start()
    wait_for(lambda: blocked_on_a_lock(notify_db), timeout=10, message="the second scanner waiting on the claims")
    release.set()
    first.join(10)
    second.join(10)
    assert results == {"first": 20, "second": 0}
    assert sorted(row[2] for row in sent()) == list(range(1, 21))


def blocked_on_a_lock(app):
    with app.app_context():
        return db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one() > 0


def test_a_scan_that_dies_after_claiming_sends_nothing_and_the_next_sends_once(notify_db, handle, clock, sent,
                                                                               outbox, monkeypatch):
    handle(task_event(), task_event(id=10))
    clock.now = DUE_SOON
    real_write = reminders.write_new_notifications

    def write_then_die(rows):
        real_write(rows)
        raise RuntimeError("the worker died mid-scan")

    monkeypatch.setattr(reminders, "write_new_notifications", write_then_die)
    ReminderScanner(notify_db).scan()  # logs the failure and lives on
    with notify_db.app_context():
        claims = db.session.execute(text("SELECT count(*) FROM sent_reminders")).scalar_one()
    assert claims == 0 and sent() == [] and [n for _, n in outbox() if n["kind"] == "due_soon"] == []
    monkeypatch.setattr(reminders, "write_new_notifications", real_write)
    ReminderScanner(notify_db).scan()
    ReminderScanner(notify_db).scan()
    assert sorted(row[2] for row in sent()) == [9, 10]
    assert len([n for _, n in outbox() if n["kind"] == "due_soon"]) == 2


def test_a_muted_reminder_makes_nothing_and_stays_spent(notify_db, handle, scan, sent, outbox):
    with notify_db.app_context():
        db.session.execute(text("INSERT INTO muted_kinds (\"user\", kind) VALUES (2, 'due_soon')"))
        db.session.commit()
    handle(task_event())
    assert scan(DUE_SOON) == 0
    with notify_db.app_context():
        db.session.execute(text("DELETE FROM muted_kinds"))
        db.session.commit()
    assert scan() == 0
    assert scan(OVERDUE) == 1
    assert [row[1] for row in sent()] == ["overdue"]
    assert [n["kind"] for _, n in outbox()] == ["assigned", "overdue"]
