"""What the other services load from users_svc (over /internal/): the revocations and accounts their revocation lists
hold, one account a token names that they have not heard of, and the user directory tasks_svc keeps."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from taskwire_common.db import db

from .models import RevokedToken, User


def revocation_snapshot() -> dict:
    """Every revocation still in force and every account's state, for a service that starts or reconnects."""
    now = datetime.now(timezone.utc)
    tokens = db.session.execute(
        select(RevokedToken.jti, RevokedToken.user_id, RevokedToken.expires_at)
        .where(RevokedToken.expires_at > now)
    ).all()
    users = db.session.execute(select(User.id, User.token_version, User.is_active, User.version)).all()
    return {
        "tokens": [{"jti": jti, "user_id": user_id, "expires_at": expires_at.timestamp()}
                   for jti, user_id, expires_at in tokens],
        "users": [{"user_id": user.id, "token_version": user.token_version} for user in users if user.token_version],
        "accounts": [{"user_id": user.id, "is_active": user.is_active, "version": user.version} for user in users],
    }


def account(user_id: int) -> dict | None:
    """One account as revocation lists hold it."""
    row = db.session.execute(select(User.is_active, User.version, User.token_version)
                             .where(User.id == user_id)).one_or_none()
    if row is None:
        return None
    return {"user_id": user_id, "is_active": row.is_active, "version": row.version, "token_version": row.token_version}


def directory_snapshot() -> dict:
    """Every user as other services' directories hold them, with the version each reflects."""
    users = db.session.execute(select(User).order_by(User.id)).scalars()
    return {"users": [{"id": user.id, "username": user.username, "role": user.role,
                       "is_active": user.is_active, "version": user.version} for user in users]}
