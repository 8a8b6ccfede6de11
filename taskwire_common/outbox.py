"""Transactional outbox: a change and the events describing it, written by one statement.

Every write that publishes goes through `ChangeWithEvents`: the data-changing statement
(INSERT, UPDATE or DELETE with RETURNING) becomes a writable CTE, and each event is inserted
into `outbox_events` from that CTE's rows. So a change and its events commit together or not
at all, cost one round trip, and what only the database knows (a new id, a raised version)
is written into the event from the row the change returned. A change that touches no row
(say an UPDATE whose WHERE finds nothing) writes no event.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypedDict

import orjson
from flask import current_app
from sqlalchemy import (
    CTE,
    BigInteger,
    DateTime,
    Executable,
    Identity,
    Index,
    Row,
    Select,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from .contracts import Event
from .db import Model, db

NOTIFY_CHANNEL = "taskwire_outbox"

Change = UpdateBase  # an INSERT, UPDATE or DELETE with RETURNING


class OutboxEvent(Model):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(Uuid(as_uuid=False), unique=True, nullable=False)
    routing_key: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 nullable=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_outbox_events_pending", "id", postgresql_where=text("published_at IS NULL")),
    )


# A trigger, not a call in the code, wakes the outbox publisher: no write can forget it, and it costs no
# extra round trip. NOTIFY is transactional, so the publisher wakes exactly when the change commits.
# Migrations run these; never edit them in place (a change is a new trigger and a new migration).
CREATE_NOTIFY_TRIGGER = f"""
CREATE FUNCTION taskwire_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION taskwire_outbox_notify();
"""
DROP_NOTIFY_TRIGGER = """
DROP TRIGGER outbox_events_notify ON outbox_events;
DROP FUNCTION taskwire_outbox_notify();
"""


@dataclass(frozen=True)
class EventSlot:
    """Where an event goes in a change's statement.

    `from_row` names what the database decides: {"data.task.id": "id"} writes the `id` the change
    returned at that place in the event. `row` picks, in a change of several rows, the one this
    event is about ({"user": 2, "event_id": "…"}); left empty, the event goes with every row.
    """

    from_row: Mapping[str, str] = field(default_factory=dict)
    row: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingEvent:
    """An event to write with a change built per call, and where it goes (see EventSlot)."""

    event: Event
    from_row: Mapping[str, str] = field(default_factory=dict)
    row: Mapping[str, Any] = field(default_factory=dict)


class ChangeWithEvents:
    """A change and the events it writes, as one statement (a writable CTE) built once.

    Build one at import for a hot path: building the statement costs more Python than its round
    trip, and a statement built once is compiled once. Its change takes bound parameters
    (`bindparam`) whose values `execute` passes, with the events themselves.
    """

    def __init__(self, change: Change, slots: Sequence[EventSlot]):
        self.slots = list(slots)
        self.single: list[int] = []
        self.groups: list[tuple[tuple[str, ...], list[int]]] = []
        if not slots:
            self.statement: Executable = change
            return
        changed = change.cte("changed")
        outbox = OutboxEvent.__table__
        assert isinstance(outbox, Table)  # declarative types it as any FromClause (a class may map a join)
        # An event that goes with every row is one SELECT of its own; events matched to rows by the
        # same columns go together, as arrays joined to the rows: one SELECT however many there are
        # (a SELECT each made a batch of 200 notifications cost ~0.4 s of SQL compilation).
        self.single = [number for number, slot in enumerate(slots) if not slot.row]
        groups: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], list[int]] = {}
        for number, slot in enumerate(slots):
            if slot.row:
                groups.setdefault((tuple(slot.from_row.items()), tuple(slot.row)), []).append(number)
        self.groups = [(match, numbers) for (_from_row, match), numbers in groups.items()]
        branches = [_event_row(changed, number, self.slots[number]) for number in self.single]
        branches += [_matched_events(changed, group, dict(from_row), match)
                     for group, ((from_row, match), _numbers) in enumerate(groups.items())]
        written = insert(outbox).from_select(["event_id", "routing_key", "payload"], union_all(*branches))
        self.statement = select(*changed.c).add_cte(written.cte("written"))

    def execute(self, connection: Connection, events: Sequence[Event], values: Mapping[str, Any] | None = None
                ) -> Sequence[Row[Any]]:
        """Run it; returns the rows the change returned. On an autocommit connection the statement
        commits by itself, on a session's connection with the session's transaction."""
        return connection.execute(self.statement, self.parameters(events, values)).all()

    def parameters(self, events: Sequence[Event], values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The statement's parameters: the change's `values` and the events, each where its slot puts it."""
        if len(events) != len(self.slots):
            raise ValueError(f"{len(events)} events for {len(self.slots)} slots")
        params = dict(values or {})
        for number in self.single:
            event = events[number]
            params.update({f"outbox_event_{number}": orjson.dumps(event).decode(),
                           f"outbox_event_id_{number}": event["id"], f"outbox_routing_key_{number}": event["type"]})
        for group, (match, numbers) in enumerate(self.groups):
            params.update({f"outbox_group_{group}_payloads": [orjson.dumps(events[n]).decode() for n in numbers],
                           f"outbox_group_{group}_ids": [events[n]["id"] for n in numbers],
                           f"outbox_group_{group}_routing_keys": [events[n]["type"] for n in numbers]})
            for index, name in enumerate(match):
                params[f"outbox_group_{group}_match_{index}"] = [self.slots[n].row[name] for n in numbers]
        return params


class ChangeWithRowEvents:
    """A change of any number of rows and one event per row, as one statement built once.

    What `ChangeWithEvents` does for events matched to rows, for a batch whose size varies (say a
    batch of notifications): its slots hold each row's values, so it is built per call, and building
    and keying its statement cost more than the round trip (about a quarter of the notification
    worker's CPU per event). Here the rows' `match` values travel as parameters instead, so the
    statement is built and compiled once. `from_row` is as in EventSlot.
    """

    def __init__(self, change: Change, from_row: Mapping[str, str], match: Sequence[str]):
        self.match = tuple(match)
        changed = change.cte("changed")
        outbox = OutboxEvent.__table__
        assert isinstance(outbox, Table)
        events = _matched_events(changed, 0, from_row, self.match)
        written = insert(outbox).from_select(["event_id", "routing_key", "payload"], events)
        self.statement = select(*changed.c).add_cte(written.cte("written"))

    def execute(self, connection: Connection, events: Sequence[Event], rows: Sequence[Mapping[str, Any]],
                values: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
        """Run it: `events[n]` goes with the changed row whose `match` columns hold `rows[n]`'s values."""
        if len(events) != len(rows):
            raise ValueError(f"{len(events)} events for {len(rows)} rows")
        params = {**(values or {}),
                  "outbox_group_0_payloads": [orjson.dumps(event).decode() for event in events],
                  "outbox_group_0_ids": [event["id"] for event in events],
                  "outbox_group_0_routing_keys": [event["type"] for event in events]}
        for index, name in enumerate(self.match):
            params[f"outbox_group_0_match_{index}"] = [row[name] for row in rows]
        return connection.execute(self.statement, params).all()


def write_with_events(connection: Connection, change: Change, events: Sequence[PendingEvent | Event] = ()
                      ) -> Sequence[Row[Any]]:
    """Execute the change and write its events in one statement; returns the rows the change returned.

    For a change built per call; nothing is published before the statement's transaction commits.
    """
    pending = [item if isinstance(item, PendingEvent) else PendingEvent(item) for item in events]
    slots = [EventSlot(item.from_row, item.row) for item in pending]
    return ChangeWithEvents(change, slots).execute(connection, [item.event for item in pending])


def _event_row(changed: CTE, number: int, slot: EventSlot) -> Select[Any]:
    """SELECT event_id, routing_key, payload FROM changed: event `number` with the row's values filled in."""
    payload: Any = cast(bindparam(f"outbox_event_{number}", type_=Text), JSONB)
    for path, column in slot.from_row.items():
        payload = _filled(payload, path, changed.c[column])
    query = select(cast(bindparam(f"outbox_event_id_{number}", type_=Text), Uuid),
                   bindparam(f"outbox_routing_key_{number}", type_=Text), payload).select_from(changed)
    return query


def _matched_events(changed: CTE, group: int, from_row: Mapping[str, str], match: Sequence[str]) -> Select[Any]:
    """SELECT … FROM changed JOIN unnest(the group's events): each event with the row its `match` values name."""
    prefix = f"outbox_group_{group}"
    arrays = [cast(bindparam(f"{prefix}_ids", type_=ARRAY(Text)), ARRAY(Uuid)),
              bindparam(f"{prefix}_routing_keys", type_=ARRAY(Text)),
              cast(bindparam(f"{prefix}_payloads", type_=ARRAY(Text)), ARRAY(JSONB))]
    arrays += [cast(bindparam(f"{prefix}_match_{index}", type_=ARRAY(Text)), ARRAY(changed.c[name].type))
               for index, name in enumerate(match)]
    columns = [f"match_{index}" for index in range(len(match))]
    events = func.unnest(*arrays).table_valued("event_id", "routing_key", "payload", *columns) \
        .render_derived(name=f"events_{group}")
    payload: Any = events.c.payload
    for path, column in from_row.items():
        payload = _filled(payload, path, changed.c[column])
    joined = changed.join(events, and_(*(changed.c[name] == events.c[f"match_{index}"]
                                         for index, name in enumerate(match))))
    return select(events.c.event_id, events.c.routing_key, payload).select_from(joined)


def _filled(payload: Any, path: str, value: Any) -> Any:
    """jsonb_set(payload, '{a,b,c}', to_jsonb(value)) for the dotted `path` a.b.c."""
    return func.jsonb_set(payload, cast(literal("{" + path.replace(".", ",") + "}"), ARRAY(Text)),
                          func.to_jsonb(value))


class OutboxLag(TypedDict):
    pending: int
    oldest_pending_age_seconds: float


def outbox_lag() -> OutboxLag:
    """How far the outbox publisher is behind: pending events and the age of the oldest, for health output."""
    pending, oldest = db.session.execute(
        select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.published_at.is_(None))
    ).one()
    age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
    return {"pending": pending, "oldest_pending_age_seconds": round(age, 3)}


def outbox_health() -> tuple[bool, object]:
    """The outbox publisher's lag for /healthz: unhealthy once the oldest waiting event is older than
    OUTBOX_LAG_LIMIT_SECONDS (the publisher is down, or the broker refuses it), whatever the API still does."""
    lag = outbox_lag()
    limit = current_app.config["TASKWIRE_SETTINGS"].outbox_lag_limit_seconds
    if lag["oldest_pending_age_seconds"] > limit:
        return False, {**lag, "problem": f"events wait longer than {limit} s: the outbox publisher is down or stuck"}
    return True, lag
