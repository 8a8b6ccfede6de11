"""WebSocket tickets: a token exchanged for a single-use ticket valid TICKET_SECONDS, so no long-lived token goes
into a WebSocket URL (URLs end up in proxies' and browsers' records).

A ticket stands for the token that asked for it: the socket it opens lives as that token would
(it closes when the token expires or is revoked). It is 32 random bytes; only its SHA-256 is stored.
Redeeming (the relay does, with the internal key) marks it used in the same statement that finds
it, so two relays racing for one ticket cannot both win.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, update

from taskwire_common.auth import Principal
from taskwire_common.db import db

from .models import WsTicket

TICKET_SECONDS = 30
KEEP_USED_SECONDS = 3600  # expired tickets are deleted this long after they expired


def digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(principal: Principal, now: datetime | None = None) -> str:
    """A new ticket for the principal's token, valid TICKET_SECONDS (never past the token's own expiry)."""
    now = now or datetime.now(timezone.utc)
    ticket = secrets.token_urlsafe(32)
    expires_at = min(now + timedelta(seconds=TICKET_SECONDS),
                     datetime.fromtimestamp(principal.expires_at, timezone.utc))
    db.session.execute(delete(WsTicket).where(WsTicket.expires_at < now - timedelta(seconds=KEEP_USED_SECONDS)))
    db.session.add(WsTicket(ticket_hash=digest(ticket), user_id=principal.user_id, username=principal.username,
                            role=principal.role, jti=principal.jti, token_version=principal.token_version,
                            token_issued_at=principal.issued_at, token_expires_at=principal.expires_at,
                            expires_at=expires_at))
    db.session.commit()
    return ticket


def redeem_ticket(ticket: str, now: datetime | None = None) -> Principal | None:
    """The principal a ticket stands for, once: None if it is unknown, used or expired."""
    now = now or datetime.now(timezone.utc)
    row = db.session.execute(
        update(WsTicket)
        .where(WsTicket.ticket_hash == digest(ticket), WsTicket.used_at.is_(None), WsTicket.expires_at > now)
        .values(used_at=now)
        .returning(WsTicket)
    ).scalar_one_or_none()
    db.session.commit()
    if row is None:
        return None
    return Principal(user_id=row.user_id, username=row.username, role=row.role, jti=row.jti,
                     issued_at=row.token_issued_at, expires_at=row.token_expires_at, token_version=row.token_version)

