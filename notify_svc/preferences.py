"""Each user's notification preferences: the kinds they muted (no row is the default, every kind on)."""
from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as upsert

from taskwire_common.db import db

from .models import MutedKind
from .rules import preferences


def muted_kinds(users: Collection[int]) -> dict[int, set[str]]:
    """The kinds each of these users muted (users with none are left out)."""
    muted: dict[int, set[str]] = {}
    if not users:
        return muted
    for user, kind in db.session.execute(select(MutedKind.user, MutedKind.kind).where(MutedKind.user.in_(users))):
        muted.setdefault(user, set()).add(kind)
    return muted


def users_preferences(user_id: int) -> dict[str, bool]:
    return preferences(muted_kinds([user_id]).get(user_id, set()))


def set_preferences(user_id: int, wanted: Mapping[str, bool]) -> dict[str, bool]:
    """Set the kinds `wanted` names (True on, False muted); the others keep their value. Returns them all."""
    unmuted = [kind for kind, on in wanted.items() if on]
    muted = [kind for kind, on in wanted.items() if not on]
    if unmuted:
        db.session.execute(delete(MutedKind).where(MutedKind.user == user_id, MutedKind.kind.in_(unmuted)))
    if muted:
        db.session.execute(upsert(MutedKind).values([{"user": user_id, "kind": kind} for kind in muted])
                           .on_conflict_do_nothing())
    db.session.commit()
    return users_preferences(user_id)
