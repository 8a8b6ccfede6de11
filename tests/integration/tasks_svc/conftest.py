"""tasks_svc's fixtures: its app on tasks_db_it, a client, a directory of users with tokens, its outbox."""
import psycopg2
import pytest
from sqlalchemy import text

from taskwire_common.db import READS, db
from tests.integration.support import TASKS_DATABASE_URL, admit, emptied, migrated_app

# tasks_svc's directory is fed by users_svc: its tests run users_svc beside it.
from tests.integration.users_svc.conftest import (  # noqa: F401
    admin_token,
    clean_users_db,
    client,
    login,
    make_user,
    users_app,
    users_http,
)
from tests.support import make_token

TASKS_TABLES = "tasks, directory_users, outbox_events, idempotency_keys"


@pytest.fixture(scope="session")
def tasks_app(it_env):
    return migrated_app("tasks_svc", TASKS_DATABASE_URL)


@pytest.fixture
def tasks_db(tasks_app):
    return emptied(tasks_app, TASKS_TABLES)


@pytest.fixture
def kill_connections(tasks_app):
    """Kill every connection to tasks_db_it but the killer's, as a restart of PostgreSQL would. Afterwards
    the app's pools are emptied: the next test must not meet a connection killed a moment after its last
    use, which nothing pings (db.ping_when_idle)."""
    def kill() -> None:
        with psycopg2.connect(TASKS_DATABASE_URL) as other, other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            assert cursor.rowcount >= 1
    yield kill
    with tasks_app.app_context():
        db.engine.dispose()
    tasks_app.extensions[READS].dispose()


@pytest.fixture
def tasks_client(tasks_db):
    return tasks_db.test_client()


@pytest.fixture
def directory(tasks_db):
    """Put users in tasks_svc's directory, as users_svc's events would; returns a token per user."""
    from tasks_svc.directory import upsert_users

    def add(*users):
        with tasks_db.app_context():
            upsert_users([{"id": user_id, "username": name, "role": role, "is_active": active, "version": 1}
                          for user_id, name, role, active in users])
            db.session.commit()
        admit(tasks_db, *[(user_id, active) for user_id, _name, _role, active in users])
        return {name: make_token(user_id, name, role) for user_id, name, role, _ in users}

    return add


@pytest.fixture
def people(directory):
    """The usual cast: an admin (1), two users (2, 3) and an inactive user (4); their tokens by name."""
    return directory((1, "root", "admin", True), (2, "ann", "user", True), (3, "bob", "user", True),
                     (4, "gone", "user", False))


@pytest.fixture
def task_events(tasks_db):
    """The task events in tasks_svc's outbox so far, oldest first."""
    def read():
        with tasks_db.app_context():
            return [row[0] for row in db.session.execute(text("SELECT payload FROM outbox_events ORDER BY id"))]
    return read
