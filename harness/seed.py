"""Deterministic load data: 1,000 users and 100,000 tasks, written straight into a stack's databases.

Every seeded user shares one password, so they share one stored hash too: the admin is made
through users_svc's own CLI (which hashes the password as the service does) and its stored
hash is copied to every seeded user, with no service code imported here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from . import api
from .stack_runner import StackRunner

USERS = 1000
TASKS = 100_000
PASSWORD = "bench-password"
ADMIN = "bench-admin"


def user_name(number: int) -> str:
    return f"bench-user-{number:04d}"


@dataclass(frozen=True)
class Seeded:
    """The seeded accounts: {username: (id, role)} for the admin and every user."""

    accounts: dict[str, tuple[int, str]]

    def id_of(self, username: str) -> int:
        return self.accounts[username][0]

    def user_ids(self) -> list[int]:
        return sorted(uid for uid, role in self.accounts.values() if role == "user")


def fetch_value(cursor: psycopg2.extensions.cursor) -> Any:
    """The first column of the row the cursor's query returned: a count, or a value that must be there."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError(f"no row from {cursor.query!r}")
    return row[0]


def seed(stack: StackRunner, log: Callable[[str], None]) -> Seeded:
    """Create what is missing (and remove tasks earlier runs created)."""
    seeded = Seeded(seed_users(stack, log))
    seed_tasks(stack.database_url("tasks_svc"), seeded, log)
    return seeded


def seed_users(stack: StackRunner, log: Callable[[str], None]) -> dict[str, tuple[int, str]]:
    with psycopg2.connect(stack.database_url("users_svc")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM users WHERE username LIKE 'bench-%%'")
        if fetch_value(cursor) < USERS + 1:
            log(f"seeding {USERS} users (one Argon2 hash shared by all)")
            stack.create_superuser(ADMIN, PASSWORD, f"{ADMIN}@bench.example")
            cursor.execute("SELECT password_hash FROM users WHERE username = %s", (ADMIN,))
            password_hash = fetch_value(cursor)
            psycopg2.extras.execute_values(cursor, """
                INSERT INTO users (username, email, password_hash, role, is_active, is_superuser, token_version)
                VALUES %s ON CONFLICT DO NOTHING""",
                [(name, f"{name}@bench.example", password_hash, "user", True, False, 0)
                 for name in map(user_name, range(USERS))])
        cursor.execute("SELECT username, id, role FROM users WHERE username LIKE 'bench-%%'")
        return {name: (user_id, role) for name, user_id, role in cursor.fetchall()}


def seed_tasks(tasks_url: str, seeded: Seeded, log: Callable[[str], None]) -> None:
    with psycopg2.connect(tasks_url) as connection, connection.cursor() as cursor:
        psycopg2.extras.execute_values(cursor, """
            INSERT INTO directory_users (id, username, role, is_active, version) VALUES %s
            ON CONFLICT (id) DO NOTHING""",
            [(uid, name, role, True, 1) for name, (uid, role) in seeded.accounts.items()])
        # What earlier runs created goes: every run measures the same 100,000 tasks.
        cursor.execute("DELETE FROM tasks WHERE title NOT LIKE 'Bench task %%'")
        if cursor.rowcount:
            log(f"removed {cursor.rowcount} tasks left by earlier runs")
            cursor.execute("ANALYZE tasks")
        cursor.execute("SELECT count(*) FROM tasks WHERE title LIKE 'Bench task %%'")
        if fetch_value(cursor) >= TASKS:
            return
        log(f"seeding {TASKS} tasks over {USERS} users")
        user_ids = seeded.user_ids()
        # Pseudo-random but fixed: every column is a function of the row number.
        cursor.execute("""
            INSERT INTO tasks (title, description, priority, status, due_date, assigned_user, created_by)
            SELECT 'Bench task ' || g, 'Generated for the benchmarks, row ' || g || ' ' || md5(g::text),
                   (ARRAY['low','medium','high'])[1 + (g * 7) %% 3]::task_priority,
                   (ARRAY['todo','in_progress','completed'])[1 + (g * 13) %% 3]::task_status,
                   CASE WHEN g %% 10 = 0 THEN NULL ELSE date '2026-01-01' + ((g * 37) %% 365) END,
                   (%s::int[])[1 + (g * 7919) %% %s], %s
            FROM generate_series(1, %s) AS g""", (user_ids, len(user_ids), seeded.id_of(ADMIN), TASKS))
        cursor.execute("ANALYZE tasks")


def sign_in(gateway: str, username: str) -> str:
    """A seeded account's token."""
    return api.login(gateway, username, PASSWORD)["token"]
