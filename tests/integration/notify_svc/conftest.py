"""notify_svc's fixtures: its app on notifications_db_it and the notifications it stored."""
import pytest
from sqlalchemy import text

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
