"""Idempotency-Key on POST /api/tasks/ with a real PostgreSQL: a retried create never makes a second task."""
import threading
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
from sqlalchemy import text

from taskwire_common.db import db
from tests.integration.support import TASKS_DATABASE_URL
from tests.support import at_once, bearer, wait_for

BODY = {"title": "Fix login", "priority": "high", "assigned_user": 2}


@pytest.fixture
def admin(people):
    return bearer(people["root"])


def post(client, headers, key, body=BODY):
    return client.post("/api/tasks/", json=body, headers={**headers, "Idempotency-Key": key})


def count_tasks(tasks_db):
    with tasks_db.app_context():
        return db.session.execute(text("SELECT count(*) FROM tasks")).scalar_one()


def test_a_retry_with_the_same_key_answers_the_first_answer_and_creates_nothing(
        tasks_client, tasks_db, admin, task_events):
    first = post(tasks_client, admin, "create-1")
    retry = post(tasks_client, admin, "create-1")
    assert first.status_code == retry.status_code == 201
    assert retry.data == first.data
    assert retry.headers["Location"] == first.headers["Location"] == f"/api/tasks/{first.json['id']}/"
    assert retry.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert retry.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert count_tasks(tasks_db) == 1
    assert [event["type"] for event in task_events()] == ["task.created"]


def test_a_replay_answers_the_first_answer_even_after_the_task_changed(tasks_client, admin):
    first = post(tasks_client, admin, "create-2")
    tasks_client.patch(first.headers["Location"], json={"status": "completed"}, headers=admin)
    assert post(tasks_client, admin, "create-2").data == first.data


def test_the_same_body_in_another_order_and_spacing_is_the_same_request(tasks_client, tasks_db, admin):
    post(tasks_client, admin, "create-3")
    reordered = tasks_client.post("/api/tasks/", content_type="application/json",
                                  data='{ "assigned_user": 2, "priority": "high", "title": "Fix login" }',
                                  headers={**admin, "Idempotency-Key": "create-3"})
    assert reordered.status_code == 201 and reordered.headers["Idempotent-Replayed"] == "true"
    assert count_tasks(tasks_db) == 1


def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(tasks_client, tasks_db, admin, task_events):
    post(tasks_client, admin, "create-4")
    other = post(tasks_client, admin, "create-4", {**BODY, "title": "Something else"})
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert "different request" in other.json["detail"]
    assert count_tasks(tasks_db) == 1 and len(task_events()) == 1


def test_keys_are_per_caller(tasks_client, tasks_db, people):
    mine = post(tasks_client, bearer(people["ann"]), "shared-key", {"title": "Mine"})
    theirs = post(tasks_client, bearer(people["bob"]), "shared-key", {"title": "Mine"})
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert (mine.json["assigned_user"], theirs.json["assigned_user"]) == (2, 3)
    assert count_tasks(tasks_db) == 2


def test_creates_without_a_key_are_never_replayed(tasks_client, tasks_db, admin):
    for _ in range(2):
        assert tasks_client.post("/api/tasks/", json=BODY, headers=admin).status_code == 201
    assert count_tasks(tasks_db) == 2


def test_a_quoted_key_is_the_same_key_unquoted(tasks_client, tasks_db, admin):
    post(tasks_client, admin, "create-5")
    assert post(tasks_client, admin, '"create-5"').headers.get("Idempotent-Replayed") == "true"
    assert count_tasks(tasks_db) == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "tab\tinside", '""'])
def test_a_malformed_key_is_a_400_naming_the_header_and_creates_nothing(tasks_client, tasks_db, admin, key):
    response = post(tasks_client, admin, key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json["errors"]
    assert count_tasks(tasks_db) == 0


def test_a_refused_create_keeps_no_key(tasks_client, tasks_db, people):
    refused = post(tasks_client, bearer(people["ann"]), "create-6", {"title": "Theirs", "assigned_user": 3})
    assert refused.status_code == 403
    corrected = post(tasks_client, bearer(people["ann"]), "create-6", {"title": "Mine"})
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    assert count_tasks(tasks_db) == 1


def test_a_retry_while_the_first_is_still_running_is_a_409(tasks_db, admin, task_events):
    """The first request is held inside its transaction (the tasks table locked by another session);
    its retry must neither wait for it nor create a second task."""
    blocker = psycopg2.connect(TASKS_DATABASE_URL)
    blocker.cursor().execute("LOCK TABLE tasks IN SHARE MODE")  # the INSERT waits, its key lock held
    first = {}
    thread = threading.Thread(target=lambda: first.update(
        response=post(tasks_db.test_client(), admin, "create-7")))
    thread.start()
    try:
        def first_is_waiting():
            with blocker.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                return cursor.fetchone()[0] == 1
        wait_for(first_is_waiting, message="the first request waiting inside its transaction")
        answered = {}
        retrying = threading.Thread(target=lambda: answered.update(
            response=post(tasks_db.test_client(), admin, "create-7")))
        retrying.start()
        retrying.join(timeout=5)
        assert not retrying.is_alive(), "the retry waited for the first request instead of answering 409"
        retry = answered["response"]
        assert retry.status_code == 409 and retry.headers["Retry-After"] == "1"
        assert "still in progress" in retry.json["detail"]
    finally:
        blocker.rollback()
        blocker.close()
        thread.join(timeout=10)
    assert first["response"].status_code == 201
    later = post(tasks_db.test_client(), admin, "create-7")
    assert later.status_code == 201 and later.data == first["response"].data
    assert count_tasks(tasks_db) == 1 and len(task_events()) == 1


def test_twenty_concurrent_retries_make_one_task_and_identical_answers_or_409s(tasks_db, admin, task_events):
    def send(_number):
        response = post(tasks_db.test_client(), admin, "storm")
        return response.status_code, response.data

    answers = at_once(20, send)
    created = {body for status, body in answers if status == 201}
    assert len(answers) == 20 and {status for status, _ in answers} <= {201, 409}
    assert len(created) == 1
    assert count_tasks(tasks_db) == 1 and len(task_events()) == 1


def test_a_key_is_kept_24_hours_and_then_makes_a_new_task(tasks_db, admin):
    created_at = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
    client = tasks_db.test_client()
    tasks_db.config["TASKWIRE_CLOCK"] = lambda: created_at
    try:
        first = post(client, admin, "create-8")
        tasks_db.config["TASKWIRE_CLOCK"] = lambda: created_at + timedelta(hours=24) - timedelta(seconds=1)
        assert post(client, admin, "create-8").headers.get("Idempotent-Replayed") == "true"
        tasks_db.config["TASKWIRE_CLOCK"] = lambda: created_at + timedelta(hours=24)
        later = post(client, admin, "create-8")
        assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
        assert later.json["id"] != first.json["id"]
        assert post(client, admin, "create-8").data == later.data  # the key now answers the new task
    finally:
        del tasks_db.config["TASKWIRE_CLOCK"]
    assert count_tasks(tasks_db) == 2
