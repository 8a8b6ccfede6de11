"""The SQLAlchemy extension every service binds to its own database."""
from __future__ import annotations

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, text

# Named constraints keep Alembic migrations reproducible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))


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
