"""The SQLAlchemy extension every service binds to its own database."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations reproducible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

log = logging.getLogger(__name__)


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
