"""What integration tests and their fixtures import: the databases and broker vhost they use, and app helpers."""
import contextlib
import dataclasses
import importlib
from collections.abc import Iterator

import psycopg2
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from taskwire_common.db import db

USERS_DATABASE_URL = "postgresql://taskwire:taskwire@127.0.0.1:5432/users_db_it"
TASKS_DATABASE_URL = "postgresql://taskwire:taskwire@127.0.0.1:5432/tasks_db_it"
NOTIFY_DATABASE_URL = "postgresql://taskwire:taskwire@127.0.0.1:5432/notifications_db_it"

IT_ENV = {
    "TASKWIRE_ENV": "test",
    "LOG_LEVEL": "INFO",
    "DATABASE_URL": USERS_DATABASE_URL,
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/taskwire_it",
    "LOGIN_MAX_FAILURES": "3",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "6",
    "LOGIN_THROTTLE_SECONDS": "60",
    "REGISTRATION_OPEN": "true",
    # No users_svc listens here: a service that looks up a user it was not told of finds nobody.
    "USERS_SERVICE_URL": "http://127.0.0.1:9",
}


def migrated_app(service: str, database_url: str) -> Flask:
    """A service's app on its own integration database, migrated to the latest revision."""
    app_module = importlib.import_module(f"{service}.app")
    settings = importlib.import_module(f"{service}.config").load_settings()
    app = app_module.create_app(dataclasses.replace(settings, database_url=database_url))
    with app.app_context():
        upgrade()
    return app


def admit(app: Flask, *accounts: tuple[int, bool]) -> None:
    """Tell a service's revocation list about accounts (user id, is active), as users_svc's snapshot would."""
    revocations = app.extensions["taskwire.revocations"]
    for user_id, is_active in accounts:
        revocations.apply_account(user_id, is_active, version=1_000_000)


def emptied(app: Flask, tables: str) -> Flask:
    with app.app_context():
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
        db.session.commit()
    return app


def run_sql(database_url: str, *statements: str) -> None:
    """Statements run and committed on a connection of their own, outside any app's pool."""
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@contextlib.contextmanager
def planner_statistics_held(database_url: str, table: str) -> Iterator[None]:
    """No autovacuum on the table meanwhile: its planner statistics stay what the test makes them (ANALYZE);
    afterwards autovacuum is back and the statistics are taken anew."""
    run_sql(database_url, f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    try:
        yield
    finally:
        run_sql(database_url, f"ALTER TABLE {table} RESET (autovacuum_enabled)", f"ANALYZE {table}")
