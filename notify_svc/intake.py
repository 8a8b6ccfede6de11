"""A batch of task events taken in by one statement: the projection kept, the events claimed, the muted kinds read.

These were three statements (and each an ORM bulk statement built anew per batch); one round trip
and one statement compiled once cut the worker's SQL per batch to this, the notifications' insert
and the commit. The claim and the read see one snapshot, as the three did in one transaction.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import text

from taskwire_common.db import db

# task_projections' columns, as projection.projection_row makes them.
PROJECTED = ("task_id", "version", "deleted", "title", "priority", "status", "assignee", "due_date")

# Each task's newest state (an older or repeated event changes nothing, see projection.py); the events
# claimed (those processed before are not returned); the users' muted kinds. Data-modifying CTEs run
# whether or not the SELECT reads them.
TAKE_IN = text("""
WITH projected AS (
    INSERT INTO task_projections AS held (task_id, version, deleted, title, priority, status, assignee, due_date)
    SELECT * FROM unnest(CAST(:task_id AS int[]), CAST(:version AS int[]), CAST(:deleted AS boolean[]),
                         CAST(:title AS text[]), CAST(:priority AS text[]), CAST(:status AS text[]),
                         CAST(:assignee AS int[]), CAST(:due_date AS date[]))
    ON CONFLICT (task_id) DO UPDATE SET
        version = excluded.version, deleted = excluded.deleted, title = excluded.title,
        priority = excluded.priority, status = excluded.status, assignee = excluded.assignee,
        due_date = excluded.due_date
    WHERE (held.version, held.deleted) < (excluded.version, excluded.deleted)
), claimed AS (
    INSERT INTO processed_events (event_id) SELECT unnest(CAST(:event_ids AS uuid[]))
    ON CONFLICT DO NOTHING RETURNING event_id
)
SELECT CAST(event_id AS text), NULL, NULL FROM claimed
UNION ALL
SELECT NULL, "user", kind FROM muted_kinds WHERE "user" = ANY(CAST(:users AS int[]))
""")


def take_in(projection_rows: Sequence[dict[str, Any]], event_ids: Collection[str], users: Collection[int]
            ) -> tuple[set[str], dict[int, set[str]]]:
    """Store the tasks' rows and claim the events in this transaction; returns the events not claimed before
    and the kinds each user muted (users with none left out)."""
    claimed: set[str] = set()
    muted: dict[int, set[str]] = {}
    if not projection_rows and not event_ids:
        return claimed, muted
    params: dict[str, Any] = {name: [row[name] for row in projection_rows] for name in PROJECTED}
    params.update(event_ids=list(event_ids), users=list(users))
    # On the session's connection, in its transaction: a text statement needs nothing of the ORM's execute.
    for event_id, user, kind in db.session.connection().execute(TAKE_IN, params):
        if event_id is not None:
            claimed.add(event_id)
        else:
            muted.setdefault(user, set()).add(kind)
    return claimed, muted
