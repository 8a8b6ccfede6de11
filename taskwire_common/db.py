"""The SQLAlchemy extension every service binds to its own database."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Dialect, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

# Named constraints keep Alembic migrations reproducible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger(__name__)
T = TypeVar("T")
READS = "taskwire.reads"  # app.extensions: the engine of read_only()


class Base(DeclarativeBase):
    """The declarative base of every table; the extension builds `db.Model` from it."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _ExtensionModel

    # The extension types `db.Model` as a variable, which mypy cannot take as a base class. At
    # runtime it is a class built from Base and the extension's own Model; this is that class.
    class Model(_ExtensionModel, Base):
        __abstract__ = True
else:
    Model = db.Model


def release_sessions_safely(app: Flask) -> None:
    """Return each request's connection when the request ends, surviving a connection that just died.

    Flask-SQLAlchemy does this in its app-context teardown, where an error escapes Flask and
    becomes gunicorn's HTML 500. If PostgreSQL goes away after a change was committed, the
    rollback that returns the connection fails; the client must still hear of its committed
    change. Registered as a request teardown, this runs first; the extension's is then a no-op.
    """
    @app.teardown_request
    def release_session(_error: BaseException | None) -> None:
        try:
            db.session.remove()
        except DBAPIError as exc:  # SQLAlchemy has invalidated the dead connection by now
            db.session.registry.clear()
            log.warning("the request's database connection was lost while being returned: %s",
                        str(exc.orig).splitlines()[0] if exc.orig else exc)


# A pooled connection used this recently is not pinged when it is taken again (ping_when_idle).
PING_AFTER_IDLE_SECONDS = 0.1
IDLE_SINCE = "taskwire.idle_since"  # a pool record's info: when its connection was last given back


def ping_when_idle(engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
    """Check a pooled connection with `SELECT 1` as it leaves the pool, only if it sat unused for more than
    PING_AFTER_IDLE_SECONDS; a dead one is replaced before the request sees it (SQLAlchemy's pool retries
    on DisconnectionError).

    Why not SQLAlchemy's pool_pre_ping, which pings on every checkout: that ping was 11 % of a create's
    CPU in tasks_svc under load, where a connection is taken again within milliseconds of its last use.
    A restart of PostgreSQL takes longer than the 0.1 s, so every connection that lived through one is
    pinged and replaced, and no request fails after the database is back. What this does not cover: a
    connection killed within 0.1 s of its last use with PostgreSQL up (pg_terminate_backend, a proxy
    dropping it). Its next request fails once with a 503, and SQLAlchemy then replaces every
    connection of the pool made before the failure.
    """
    @event.listens_for(engine, "checkin")
    def note_idle(_dbapi_connection: Any, record: Any) -> None:
        record.info[IDLE_SINCE] = clock()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(IDLE_SINCE)
        if idle_since is None or clock() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection was dead") from exc


def sqlalchemy_url(database_url: str) -> str:
    """DATABASE_URL is a libpq URL (psycopg2 and psql read it); SQLAlchemy must be told the driver."""
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            return "postgresql+psycopg2://" + database_url[len(scheme):]
    return database_url


def check_database() -> tuple[bool, str]:
    try:
        db.session.execute(text("SELECT 1"))
        return True, "ok"
    except Exception as exc:  # any failure here means "unhealthy", and the reason is reported
        db.session.rollback()
        return False, f"{type(exc).__name__}: {exc}".splitlines()[0]


def init_reads(app: Flask, database_url: str, pool_size: int) -> None:
    """A second pool, of autocommit connections, for the hot read-only queries (see read_only).

    Its connections are put in autocommit once, when made, where switching a pooled connection of
    the session's engine there and back cost two calls per request; and a checkout pings nothing.
    Like the session's pool it opens connections only as concurrency needs them.
    """
    app.extensions[READS] = create_engine(sqlalchemy_url(database_url), isolation_level="AUTOCOMMIT",
                                          pool_size=pool_size, max_overflow=4, pool_pre_ping=False,
                                          connect_args={"connect_timeout": 5})


class Reader:
    """SQLAlchemy statements run straight on a psycopg2 cursor: each compiled once, then only its values
    bound per call. Without SQLAlchemy's connection, execution context and result objects a list's query
    costs about 0.13 ms of Python instead of 0.24 (measured on the bench's user list)."""

    def __init__(self, cursor: Any, dialect: Dialect):
        self.cursor, self.dialect = cursor, dialect

    def rows(self, statement: ClauseElement, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.cursor.execute(*bound(compiled(statement, self.dialect), params))
        names = [column.name for column in self.cursor.description]
        return [dict(zip(names, row, strict=True)) for row in self.cursor.fetchall()]

    def value(self, statement: ClauseElement, params: dict[str, Any]) -> Any:
        """The first column of the one row the statement returns."""
        self.cursor.execute(*bound(compiled(statement, self.dialect), params))
        return self.cursor.fetchone()[0]


def bound(statement: SQLCompiler, params: dict[str, Any]) -> tuple[str, Any]:
    """The compiled statement's SQL and its parameters with these values. Only a statement with an
    `IN (…)` of bound values (an expanding parameter) needs its SQL rewritten for each set of values."""
    if statement.post_compile_params or statement.literal_execute_params:
        state = statement.construct_expanded_state(params)
        return state.statement, state.parameters
    return statement.string, statement.construct_params(params)


@lru_cache(maxsize=1024)
def compiled(statement: ClauseElement, dialect: Dialect) -> SQLCompiler:
    return cast(SQLCompiler, statement.compile(dialect=dialect))  # a SELECT's compiler


def read_only(work: Callable[[Reader], T]) -> T:
    """Run `work`, which only reads, on an autocommit connection of the read pool.

    No `SELECT 1` is sent before each use (the session's pool pings on every checkout, about 13 % of a
    list request's CPU). Instead, a read that finds its pooled connection dead (PostgreSQL restarted)
    runs again once on a new one: reading twice is harmless, and the pool is replaced, so no other
    dead connection is handed out. A database that cannot be reached is SQLAlchemy's OperationalError,
    as on the session's path: the API answers 503.
    """
    engine: Engine = current_app.extensions[READS]
    try:
        return read_retrying_once(engine, work)
    except engine.dialect.loaded_dbapi.OperationalError as exc:
        raise OperationalError(None, None, exc) from exc


def read_retrying_once(engine: Engine, work: Callable[[Reader], T]) -> T:
    for attempt in (1, 2):
        connection = engine.raw_connection()  # a failed connect raises the driver's own error
        try:
            cursor = connection.cursor()
            try:
                return work(Reader(cursor, engine.dialect))
            finally:
                cursor.close()
        except engine.dialect.loaded_dbapi.Error as exc:
            if attempt == 2 or not engine.dialect.is_disconnect(exc, connection.dbapi_connection, None):
                raise
            connection.invalidate(exc)
            engine.dispose(close=False)
            log.info("a pooled read connection was dead (PostgreSQL restarted?); reading again on a new one")
        finally:
            connection.close()
    raise AssertionError("unreachable: the second attempt returns or raises")
