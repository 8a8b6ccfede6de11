"""What users_svc does: log in and out, register, administer users, revoke tokens, with their events."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import Row, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.exc import IntegrityError

from taskwire_common import contracts
from taskwire_common.auth import Principal
from taskwire_common.conditional import PreconditionFailed, Preconditions, etag
from taskwire_common.db import db
from taskwire_common.idempotency import Answer, RequestKey
from taskwire_common.idempotency_store import answer_once
from taskwire_common.outbox import Change, PendingEvent, write_with_events
from taskwire_common.requestid import current_request_id

from .models import RevokedToken, User
from .passwords import hash_password, needs_rehash, verify_password
from .schemas import UserSchema
from .throttling import LoginThrottle


class InvalidCredentials(Exception):
    """Unknown user, wrong password or inactive account: one error, so none can be told apart."""


@dataclass
class Conflict(Exception):
    """The change would break a rule about existing data; `field` names what to change."""

    field: str
    message: str


UNIQUE_INDEX_FIELDS = {"uq_users_username_lower": "username", "uq_users_email_lower": "email"}


def write(change: Change, events: Sequence[PendingEvent | contracts.Event]) -> Sequence[Row[*tuple[Any, ...]]]:
    """Every write of users_svc that publishes: the change and its events as one statement in the
    request's transaction (the caller commits). A unique index lost to a concurrent request is a
    409 like the check before it."""
    try:
        rows = write_with_events(db.session.connection(), change, events)
    except IntegrityError as error:
        db.session.rollback()
        field = UNIQUE_INDEX_FIELDS.get(str(getattr(getattr(error.orig, "diag", None), "constraint_name", "")))
        if field is None:
            raise
        raise Conflict(field, f"A user with that {field} already exists.") from None
    return rows


def user_json(user: User, **changed: Any) -> dict:
    """The user's JSON, with the column values in `changed` instead of the stored ones."""
    values = {column.key: getattr(user, column.key) for column in User.__table__.columns}
    return user_values_json({**values, **changed})


USER_JSON = UserSchema()  # one for every dump (see tasks_svc.services.TASK_JSON)


def user_values_json(values: dict) -> dict:
    return USER_JSON.dump({**values, "is_staff": values["role"] == "admin"})


def find_user_by_username(username: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.username) == username.lower())
    ).scalar_one_or_none()


def log_in(username: str, password: str, address: str, throttle: LoginThrottle) -> User:
    throttle.admit(username, address)  # counted as a failure from here on, unless it succeeds
    user = find_user_by_username(username)
    # Verified for an unknown user too (against a dummy hash, always False), so both answers take as long.
    password_matches = verify_password(user.password_hash if user else None, password)
    if user is None or not password_matches or not user.is_active:
        throttle.failed(username, address)
        raise InvalidCredentials()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login = datetime.now(timezone.utc)
    throttle.succeeded(username, address)
    db.session.commit()
    return user


def revoke_token(principal: Principal) -> None:
    """Logout: this token dies everywhere, the other tokens of the user live on."""
    expires_at = datetime.fromtimestamp(principal.expires_at, timezone.utc)
    revoked = upsert(RevokedToken).values(jti=principal.jti, user_id=principal.user_id, expires_at=expires_at)
    revoked = revoked.on_conflict_do_update(index_elements=[RevokedToken.jti],
                                            set_={"user_id": revoked.excluded.user_id,
                                                  "expires_at": revoked.excluded.expires_at})
    write(revoked.returning(RevokedToken.jti), [contracts.token_revoked(
        principal.user_id, jti=principal.jti, expires_at=principal.expires_at, request_id=current_request_id())])
    db.session.commit()


def is_revoked(principal: Principal) -> bool:
    """The authoritative answer, from this service's database."""
    row = db.session.execute(
        select(User.token_version, User.is_active,
               exists().where(RevokedToken.jti == principal.jti))
        .where(User.id == principal.user_id)
    ).one_or_none()
    if row is None:
        return True
    token_version, is_active, jti_revoked = row
    return jti_revoked or not is_active or principal.token_version < token_version


def user_to_change(user_id: int, preconditions: Preconditions) -> User | None:
    """The user, its row locked until the commit, for a change the caller's preconditions allow
    (PreconditionFailed otherwise); None when there is no such user."""
    user = db.session.execute(select(User).where(User.id == user_id).with_for_update()
                              .execution_options(populate_existing=True)).scalar_one_or_none()
    if user is not None and not preconditions.allow_write(user.version):
        raise PreconditionFailed("user", user_json(user))
    return user


def ensure_unique(username: str | None, email: str | None, exclude_id: int | None = None) -> None:
    for column, value, name in ((User.username, username, "username"), (User.email, email, "email")):
        if value is None:
            continue
        query = select(User.id).where(func.lower(column) == value.lower())
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.session.execute(query).first():
            raise Conflict(name, f"A user with that {name} already exists.")


def create_user(username: str, email: str, password: str, role: str = "user",
                actor_id: int | None = None, is_superuser: bool = False) -> User:
    """Insert the user and its `user.created` in the session's transaction (the caller commits);
    the id and version come from PostgreSQL into the event."""
    ensure_unique(username, email)
    values = {"username": username, "email": email, "password_hash": hash_password(password), "role": role,
              "is_superuser": is_superuser, "is_active": True, "token_version": 0, "version": 1,
              "date_joined": datetime.now(timezone.utc)}  # this clock, so the event reads as a later GET
    user = user_values_json({**values, "id": None, "last_login": None})
    event = contracts.user_created(user, 1, actor_id, current_request_id())
    filled = PendingEvent(event, from_row={"data.user.id": "id", "data.version": "version"})
    [(user_id, _version)] = write(insert(User).values(values).returning(User.id, User.version), [filled])
    created = db.session.get(User, user_id)
    assert created is not None  # written just now, in this transaction
    return created


def create_user_answer(key: RequestKey | None, username: str, email: str, password: str, role: str = "user",
                       actor_id: int | None = None, throttle: LoginThrottle | None = None, address: str = ""
                       ) -> Answer:
    """Create the user and commit, answering 201 with its JSON, ETag and Location; once per Idempotency-Key.

    The password is no part of the key's fingerprint (see `requested_key`), so a replay must prove it
    the slow way: it is checked against the created user's password hash, and any other password
    makes the retry a different request (422). A sign-up's replay signs a token, so there that check
    is throttled and counted like a login (`throttle`, for the client at `address`): LoginThrottled.
    """
    def create() -> Answer:
        user = create_user(username, email, password, role, actor_id)
        return Answer(201, orjson.dumps(user_json(user)),
                      {"Location": f"/api/auth/users/{user.id}/", "ETag": etag(user.version)})

    def same_password(stored: Answer) -> bool:
        if throttle is not None:
            throttle.admit(username, address)
        user = db.session.get(User, orjson.loads(stored.body)["id"])
        matches = user is not None and verify_password(user.password_hash, password)
        if throttle is not None and matches:
            throttle.succeeded(username, address)
            db.session.commit()
        elif throttle is not None:
            throttle.failed(username, address)
        return matches

    return answer_once(key, create, confirm=same_password)


def list_users(role: str | None = None, is_active: bool | None = None, q: str | None = None,
               ordering: str = "id"):
    """The select of the users an admin's list asks for; `ordering` a column name, "-" first for descending."""
    column = {"id": User.id, "username": User.username}[ordering.removeprefix("-")]
    query = select(User).order_by(column.desc() if ordering.startswith("-") else column, User.id)
    if role is not None:
        query = query.where(User.role == role)
    if is_active is not None:
        query = query.where(User.is_active == is_active)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(User.username).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    return query


def ensure_not_last_admin(user: User) -> None:
    others = db.session.execute(
        select(func.count()).select_from(User)
        .where(User.role == "admin", User.is_active.is_(True), User.id != user.id)
    ).scalar_one()
    if user.role == "admin" and user.is_active and others == 0:
        raise Conflict("role", "The last active admin cannot be removed.")


def update_user(user: User, changes: dict, actor_id: int) -> User:
    """Apply an admin's partial update; a new password or deactivation revokes the user's tokens."""
    ensure_unique(changes.get("username"), changes.get("email"), exclude_id=user.id)
    if changes.get("is_active") is False:
        ensure_not_last_admin(user)
    values = {name: changes[name] for name in ("username", "email", "is_active") if name in changes}
    if "password" in changes:
        values["password_hash"] = hash_password(changes["password"])
    revoke = "password" in changes or (changes.get("is_active") is False and user.is_active)
    write_user_change(user, values, revoke, actor_id)
    return user


def deactivate_user(user: User, actor_id: int) -> None:
    if user.is_active:
        update_user(user, {"is_active": False}, actor_id)


def change_role(user: User, role: str, actor_id: int) -> User:
    """A new role takes effect at once: the user's old tokens, which carry the old role, die."""
    if role == user.role:
        return user
    if role != "admin":
        ensure_not_last_admin(user)
    write_user_change(user, {"role": role}, revoke=True, actor_id=actor_id)
    return user


def write_user_change(user: User, values: dict, revoke: bool, actor_id: int | None) -> None:
    """Write the changed columns with their events: `auth.token_revoked` when every token of the user
    dies, `user.updated` when the user's JSON changed. Both versions are raised in SQL, so concurrent
    changes each raise them, and the events carry what PostgreSQL wrote."""
    before, after = user_json(user), user_json(user, **values)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    events = []
    if revoke:
        values["token_version"] = User.token_version + 1
        events.append(PendingEvent(contracts.token_revoked(user.id, token_version=user.token_version + 1,
                                                           request_id=current_request_id()),
                                   from_row={"data.token_version": "token_version"}))
    if changes:
        values["version"] = User.version + 1
        events.append(PendingEvent(contracts.user_updated(after, user.version + 1, changes, actor_id,
                                                          current_request_id()),
                                   from_row={"data.version": "version", "data.user.version": "version"}))
    if not values:
        return
    write(update(User).where(User.id == user.id).values(values)
          .returning(User.id, User.version, User.token_version), events)
    db.session.commit()


def ensure_superuser(username: str, email: str, password: str) -> tuple[User, bool]:
    """Create an admin, or make the existing user an active admin with this password. Idempotent."""
    user = find_user_by_username(username)
    if user is None:
        created = create_user(username, email, password, role="admin", is_superuser=True)
        db.session.commit()
        return created, True
    values: dict[str, Any] = {"role": "admin", "is_active": True, "is_superuser": True}
    if email:
        ensure_unique(None, email, exclude_id=user.id)
        values["email"] = email
    if not verify_password(user.password_hash, password):
        values["password_hash"] = hash_password(password)
    write_user_change(user, values, revoke=False, actor_id=None)
    return user, False
