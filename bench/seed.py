"""Deterministic bench data: 1,000 users and 100,000 tasks, written straight into the bench databases."""
from __future__ import annotations

import psycopg2
import psycopg2.extras

from users_svc.passwords import hash_password

USERS = 1000
TASKS = 100_000
PASSWORD = "bench-password"
ADMIN = "bench-admin"


def user_name(number: int) -> str:
    return f"bench-user-{number:04d}"


def seed(users_url: str, tasks_url: str, log) -> dict:
    """Create what is missing; returns {username: id} for the admin and every user."""
    ids = seed_users(users_url, log)
    seed_tasks(tasks_url, ids, log)
    return ids


def seed_users(users_url: str, log) -> dict:
    with psycopg2.connect(users_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM users WHERE username LIKE 'bench-%%'")
        if cursor.fetchone()[0] < USERS + 1:
            log(f"seeding {USERS} users (one Argon2 hash shared by all)")
            password_hash = hash_password(PASSWORD)
            rows = [(ADMIN, "admin")] + [(user_name(n), "user") for n in range(USERS)]
            psycopg2.extras.execute_values(cursor, """
                INSERT INTO users (username, email, password_hash, role, is_active, is_superuser, token_version)
                VALUES %s ON CONFLICT DO NOTHING""",
                [(name, f"{name}@bench.example", password_hash, role, True, role == "admin", 0)
                 for name, role in rows])
        cursor.execute("SELECT username, id, role FROM users WHERE username LIKE 'bench-%%'")
        return {name: (user_id, role) for name, user_id, role in cursor.fetchall()}


def seed_tasks(tasks_url: str, ids: dict, log) -> None:
    with psycopg2.connect(tasks_url) as connection, connection.cursor() as cursor:
        psycopg2.extras.execute_values(cursor, """
            INSERT INTO directory_users (id, username, role, is_active, version) VALUES %s
            ON CONFLICT (id) DO NOTHING""", [(uid, name, role, True, 1) for name, (uid, role) in ids.items()])
        # What earlier runs created goes: every run measures the same 100,000 tasks.
        cursor.execute("DELETE FROM tasks WHERE title NOT LIKE 'Bench task %%'")
        if cursor.rowcount:
            log(f"removed {cursor.rowcount} tasks left by earlier runs")
            cursor.execute("ANALYZE tasks")
        cursor.execute("SELECT count(*) FROM tasks WHERE title LIKE 'Bench task %%'")
        if cursor.fetchone()[0] >= TASKS:
            return
        log(f"seeding {TASKS} tasks over {USERS} users")
        user_ids = sorted(uid for name, (uid, role) in ids.items() if role == "user")
        admin_id = ids[ADMIN][0]
        # Pseudo-random but fixed: every column is a function of the row number.
        cursor.execute("""
            INSERT INTO tasks (title, description, priority, status, due_date, assigned_user, created_by)
            SELECT 'Bench task ' || g, 'Generated for the benchmarks, row ' || g || ' ' || md5(g::text),
                   (ARRAY['low','medium','high'])[1 + (g * 7) %% 3]::task_priority,
                   (ARRAY['todo','in_progress','completed'])[1 + (g * 13) %% 3]::task_status,
                   CASE WHEN g %% 10 = 0 THEN NULL ELSE date '2026-01-01' + ((g * 37) %% 365) END,
                   (%s::int[])[1 + (g * 7919) %% %s], %s
            FROM generate_series(1, %s) AS g""", (user_ids, len(user_ids), admin_id, TASKS))
        cursor.execute("ANALYZE tasks")
