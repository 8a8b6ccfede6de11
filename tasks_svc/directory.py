"""The local directory of users: fed by users_svc's `user.*` events and a snapshot at start.

tasks_svc checks an assignee here instead of calling users_svc on the request path. Rows
carry the user's version, so a late or repeated event never overwrites newer news.
"""
from __future__ import annotations

import logging

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert

from taskwire_common.contracts import Event, checked_envelope, read_user_event
from taskwire_common.db import db
from taskwire_common.internal import InternalClient

from .models import DirectoryUser

log = logging.getLogger(__name__)

SNAPSHOT_PATH = "/internal/users/"


def upsert_users(users: list[dict]) -> None:
    """Insert or update each user unless this copy already holds a newer version."""
    if not users:
        return
    rows = [{"id": u["id"], "username": u["username"], "role": u["role"], "is_active": u["is_active"],
             "version": u["version"]} for u in users]
    statement = insert(DirectoryUser).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[DirectoryUser.id],
        set_={name: statement.excluded[name] for name in ("username", "role", "is_active", "version")},
        where=DirectoryUser.version < statement.excluded.version,
    )
    db.session.execute(statement)


def apply_user_event(event: Event) -> None:
    """Handler for `user.created` / `user.updated`: one upsert, committed; raises MalformedEvent."""
    user = read_user_event(checked_envelope(event))
    upsert_users([{"id": user.user_id, "username": user.username, "role": user.role, "is_active": user.is_active,
                   "version": user.version}])
    db.session.commit()


def load_snapshot(users_service: InternalClient) -> None:
    response = users_service.get(SNAPSHOT_PATH)
    response.raise_for_status()
    users = response.json()["users"]
    for start in range(0, len(users), 1000):
        upsert_users(users[start:start + 1000])
    db.session.commit()
    log.info("user directory loaded from users_svc: %d users", len(users))


# Whether the `assigned_user` parameter names a user the directory knows as active, as SQL.
ACTIVE_ASSIGNEE = exists().where(DirectoryUser.id == bindparam("assigned_user"), DirectoryUser.is_active.is_(True))


def find_active_user(user_id: int) -> DirectoryUser | None:
    return db.session.execute(
        select(DirectoryUser).where(DirectoryUser.id == user_id, DirectoryUser.is_active.is_(True))
    ).scalar_one_or_none()
