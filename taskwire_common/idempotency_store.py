"""Idempotency keys, the database side: each create's answer kept with the create, in its transaction.

The key and the answer are written in the transaction of the create itself (with its row and its
outbox event), so an answer is remembered exactly when the create commits, and a create that fails
leaves no key behind. A transaction-scoped advisory lock on (caller, key) marks a request in
progress: it ends with the transaction, however the request ends, so no key is ever stuck.

Only tasks_svc and users_svc import this module: its table is part of their databases only.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import DateTime, Index, SmallInteger, String, Text, bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from .clock import app_clock
from .db import Model, db
from .idempotency import KEY_TTL, MAX_KEY_LENGTH, Answer, KeyInFlight, KeyReused, RequestKey

# The active outbox publisher of a database with this table runs it with its other housekeeping.
PURGE_EXPIRED_KEYS = ("DELETE FROM idempotency_keys WHERE expires_at < now()", "idempotency keys past their expiry")


class IdempotencyRecord(Model):
    """A create's answer, kept for a retry with the same key until `expires_at`."""

    __tablename__ = "idempotency_keys"

    caller: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # the JSON exactly as first answered
    headers: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False)  # Location, ETag
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)


# Built once: the three statements of a keyed create (compiled once, like the services' hot writes).
_RECORD = IdempotencyRecord.__table__.c
_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))")
_LIVE_ANSWER = select(_RECORD.fingerprint, _RECORD.status, _RECORD.body, _RECORD.headers).where(
    _RECORD.caller == bindparam("caller"), _RECORD.key == bindparam("key"), _RECORD.expires_at > bindparam("now"))
_STORED = ("fingerprint", "status", "body", "headers", "created_at", "expires_at")
_upsert = insert(IdempotencyRecord).values({name: bindparam(name) for name in ("caller", "key", *_STORED)})
# An expired record of the same key, not yet purged, gives way to the new answer.
_REMEMBER = _upsert.on_conflict_do_update(index_elements=["caller", "key"],
                                          set_={name: _upsert.excluded[name] for name in _STORED})


def answer_once(key: RequestKey | None, create: Callable[[], Answer],
                confirm: Callable[[Answer], bool] | None = None) -> Answer:
    """Run `create` and commit its work with its answer; with a key, once per caller and key within KEY_TTL.

    `create` writes through `db.session` without committing: its row, its outbox events and the
    stored answer then commit together. For a key already answered, `create` does not run and the
    stored answer comes back (`replayed`), once `confirm(stored)` (if given) accepts the request's
    secret fields. Raises KeyInFlight (409) and KeyReused (422).
    """
    if key is None:
        answer = create()
        db.session.commit()
        return answer
    now = app_clock()()
    connection = db.session.connection()
    stored = _claim(connection, key, now)
    if stored is not None:
        db.session.rollback()  # nothing to write; ends the transaction and its lock
        if confirm is not None and not confirm(stored):
            raise KeyReused()
        return stored
    answer = create()
    _remember(connection, key, answer, now)
    db.session.commit()
    return answer


def _claim(connection: Connection, key: RequestKey, now: datetime) -> Answer | None:
    """Take the key's lock for this transaction (KeyInFlight if another request holds it), then read
    its live answer. Two statements: the second one's snapshot sees what a request that held the lock
    just before committed."""
    if not connection.execute(_LOCK, {"name": f"idempotency {key.caller} {key.key}"}).scalar_one():
        raise KeyInFlight()
    row = connection.execute(_LIVE_ANSWER, {"caller": key.caller, "key": key.key, "now": now}).one_or_none()
    if row is None:
        return None
    if row.fingerprint != key.fingerprint:
        raise KeyReused()
    return Answer(row.status, row.body.encode(), row.headers, replayed=True)


def _remember(connection: Connection, key: RequestKey, answer: Answer, now: datetime) -> None:
    connection.execute(_REMEMBER, {"caller": key.caller, "key": key.key, "fingerprint": key.fingerprint,
                                   "status": answer.status, "body": answer.body.decode(),
                                   "headers": dict(answer.headers), "created_at": now, "expires_at": now + KEY_TTL})
