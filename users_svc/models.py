"""users_svc tables: users, revoked tokens, recent login failures, WebSocket tickets (plus the shared outbox and
idempotency keys)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from taskwire_common.db import Model
from taskwire_common.idempotency_store import IdempotencyRecord  # noqa: F401  (part of this database's schema)
from taskwire_common.outbox import OutboxEvent  # noqa: F401  (part of this database's schema)

ROLES = ("admin", "user")


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(150), nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False, default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Tokens carry the version they were issued at; raising it revokes all older tokens.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    date_joined: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                  server_default=func.now())
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Raised with every `user.updated` event, which carries it, so copies elsewhere keep the newest.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __table_args__ = (
        CheckConstraint("role IN ('admin', 'user')", name="role"),
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )

    @property
    def is_staff(self) -> bool:
        """Django's flag, kept for existing clients: staff means admin here."""
        return self.role == "admin"


class RevokedToken(Model):
    """Tokens revoked at logout, kept until they would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())


class LoginFailure(Model):
    """A failed login, counted per username and per address inside the throttle window."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(150), nullable=False)
    address: Mapped[str] = mapped_column(String(64), nullable=False)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                server_default=func.now())

    __table_args__ = (
        Index("ix_login_failures_username_failed_at", "username", "failed_at"),
        Index("ix_login_failures_address_failed_at", "address", "failed_at"),
    )


class WsTicket(Model):
    """A single-use ticket for opening a WebSocket (`POST /api/auth/ws-ticket/`), standing for the token that asked
    for it: the relay redeems it once, within its lifetime, and the socket lives as that token would.

    Only the ticket's SHA-256 is kept: a copy of this table opens no socket.
    """

    __tablename__ = "ws_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    username: Mapped[str] = mapped_column(String(150), nullable=False)
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    jti: Mapped[str] = mapped_column(String(64), nullable=False)
    token_version: Mapped[int] = mapped_column(Integer, nullable=False)
    token_issued_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    token_expires_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
