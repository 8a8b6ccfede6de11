"""notify_svc's fixtures: its app on notifications_db_it, the notifications it stored, task events, a clock."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from notify_svc.services import handle_task_events
from taskwire_common import contracts
from taskwire_common.db import db
from tests.integration.support import NOTIFY_DATABASE_URL, emptied, migrated_app

# notify_svc turns tasks_svc's events into notifications: its tests make them with tasks_svc's own code.
from tests.integration.tasks_svc.conftest import directory, people, task_events, tasks_app, tasks_client, tasks_db  # noqa: F401

NOTIFY_TABLES = "notifications, processed_events, outbox_events, task_projections, sent_reminders, muted_kinds"


@pytest.fixture(scope="session")
def notify_app(it_env):
    return migrated_app("notify_svc", NOTIFY_DATABASE_URL)


@pytest.fixture
def notify_db(notify_app):
    return emptied(notify_app, NOTIFY_TABLES)


@pytest.fixture
def stored_notifications(notify_db):
    """(user, message, event_type) of every stored notification, oldest first."""
    def read():
        with notify_db.app_context():
            return [tuple(row) for row in db.session.execute(
                text("SELECT \"user\", message, event_type FROM notifications ORDER BY id"))]
    return read


@pytest.fixture
def clock(notify_db):
    """notify_svc's clock, which a test moves (`clock.now = …`); no test waits on wall time."""
    moved = MovableClock(datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    notify_db.config["TASKWIRE_CLOCK"] = moved
    yield moved
    del notify_db.config["TASKWIRE_CLOCK"]


class MovableClock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def handle(notify_db):
    """Handle task events as the worker does, in one batch."""
    def handle_(*events):
        with notify_db.app_context():
            return handle_task_events(list(events))
    return handle_


@pytest.fixture
def outbox(notify_db):
    """(routing key, notification) of every event in notify_svc's outbox, oldest first."""
    def read():
        with notify_db.app_context():
            rows = db.session.execute(text("SELECT routing_key, payload FROM outbox_events ORDER BY id"))
            return [(key, contracts.read_notification_event(payload).notification) for key, payload in rows]
    return read


def task_event(kind="created", version=1, actor=1, changes=None, at=None, **fields):
    """A task event as tasks_svc makes it: task 9 assigned to user 2 by admin (1), due 2026-12-02 unless told."""
    task = {"id": 9, "title": "Fix login", "description": "", "priority": "high", "status": "todo",
            "due_date": "2026-12-02", "assigned_user": 2, "created_by": 1, "version": version, **fields}
    who = contracts.Actor(actor, "admin" if actor == 1 else f"user{actor}")
    if kind == "updated":
        event = contracts.task_updated(task, changes or {"priority": ["low", "high"]}, who)
    elif kind == "deleted":
        event = contracts.task_deleted(task, who)
    else:
        event = contracts.task_created(task, who)
    if at is not None:
        event["time"] = at.isoformat().replace("+00:00", "Z")
    return event
