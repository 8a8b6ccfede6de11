"""tasks_svc on a real PostgreSQL: create, read, replace, change and delete under the permission rules."""
import re

import pytest

from tests.support import bearer

TASK_FIELDS = {"id", "title", "description", "priority", "status", "due_date", "assigned_user", "created_by",
               "created_at", "updated_at", "version"}


@pytest.fixture
def create(tasks_client, people):
    def make(who="root", **fields):
        body = {"title": "Fix login", **fields}
        response = tasks_client.post("/api/tasks/", json=body, headers=bearer(people[who]))
        assert response.status_code == 201, response.json
        return response.json
    return make


def test_admin_creates_a_task_for_a_user(tasks_client, people):
    response = tasks_client.post("/api/tasks/", headers=bearer(people["root"]), json={
        "title": "Fix login", "description": "500 on bad password", "priority": "high",
        "due_date": "2026-12-01", "assigned_user": 2})
    assert response.status_code == 201
    task = response.json
    assert set(task) == TASK_FIELDS
    assert (task["title"], task["priority"], task["status"], task["due_date"], task["assigned_user"],
            task["created_by"]) == ("Fix login", "high", "todo", "2026-12-01", 2, 1)


def test_defaults_of_a_new_task(create):
    task = create()
    assert (task["description"], task["priority"], task["status"], task["due_date"], task["assigned_user"]) == (
        "", "medium", "todo", None, None)


def test_a_users_task_is_assigned_to_them(create):
    assert create("ann")["assigned_user"] == 2
    assert create("ann", assigned_user=2)["assigned_user"] == 2
    assert create("ann", assigned_user=None)["assigned_user"] == 2


def test_a_user_cannot_assign_a_new_task_to_someone_else(tasks_client, people, task_events):
    response = tasks_client.post("/api/tasks/", json={"title": "x", "assigned_user": 3}, headers=bearer(people["ann"]))
    assert response.status_code == 403
    assert task_events() == []


@pytest.mark.parametrize("assignee", [4, 99])
def test_admin_cannot_assign_to_an_inactive_or_unknown_user(tasks_client, people, task_events, assignee):
    response = tasks_client.post("/api/tasks/", json={"title": "x", "assigned_user": assignee},
                                 headers=bearer(people["root"]))
    assert response.status_code == 400 and "assigned_user" in response.json["errors"]
    assert task_events() == []  # the statement that checks the assignee inserted nothing
    assert tasks_client.get("/api/tasks/", headers=bearer(people["root"])).json == []
    assigned = tasks_client.post("/api/tasks/", json={"title": "y", "assigned_user": 2}, headers=bearer(people["root"]))
    assert assigned.status_code == 201 and assigned.json["assigned_user"] == 2 and len(task_events()) == 1


@pytest.mark.parametrize("field,value", [
    ("title", ""), ("title", "   "), ("title", "x" * 201), ("title", None), ("title", 7),
    ("description", "x" * 10_001), ("priority", "urgent"), ("status", "done"),
    ("due_date", "2024-13-45"), ("due_date", "2024-1-2"), ("due_date", "01/02/2024"), ("due_date", 20240101),
    ("assigned_user", "2"), ("assigned_user", 2.5), ("assigned_user", 0), ("assigned_user", 2**31),
    ("colour", "blue"), ("created_by", 3), ("id", 5),
])
def test_invalid_fields_are_a_400_naming_them_and_change_nothing(tasks_client, people, task_events, field, value):
    body = {"title": "ok", field: value}
    response = tasks_client.post("/api/tasks/", json=body, headers=bearer(people["root"]))
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert tasks_client.get("/api/tasks/", headers=bearer(people["root"])).json == []
    assert task_events() == []


def test_title_of_exactly_200_characters_is_fine(create):
    assert len(create(title="x" * 200)["title"]) == 200


def test_missing_title_is_a_400(tasks_client, people):
    response = tasks_client.post("/api/tasks/", json={"priority": "low"}, headers=bearer(people["root"]))
    assert response.status_code == 400 and "title" in response.json["errors"]


def test_anonymous_callers_get_401(tasks_client, create):
    task = create()
    for method in ("get", "put", "patch", "delete"):
        assert getattr(tasks_client, method)(f"/api/tasks/{task['id']}/", json={"title": "x"}).status_code == 401
    assert tasks_client.get("/api/tasks/").status_code == 401


def test_a_user_sees_only_their_tasks_and_another_users_task_is_a_404(tasks_client, people, create):
    mine = create(assigned_user=2)
    theirs = create(assigned_user=3)
    headers = bearer(people["ann"])
    assert [t["id"] for t in tasks_client.get("/api/tasks/", headers=headers).json] == [mine["id"]]
    assert tasks_client.get(f"/api/tasks/{mine['id']}/", headers=headers).status_code == 200
    assert tasks_client.get(f"/api/tasks/{theirs['id']}/", headers=headers).status_code == 404
    assert tasks_client.get("/api/tasks/12345/", headers=headers).status_code == 404


def test_admin_sees_every_task(tasks_client, people, create):
    ids = [create(assigned_user=2)["id"], create(assigned_user=3)["id"], create()["id"]]
    listed = tasks_client.get("/api/tasks/?ordering=id", headers=bearer(people["root"])).json
    assert [t["id"] for t in listed] == ids


def test_put_replaces_every_field_and_resets_those_left_out(tasks_client, people, create):
    task = create(description="old", priority="high", due_date="2026-12-01", assigned_user=2)
    response = tasks_client.put(f"/api/tasks/{task['id']}/", json={"title": "New title", "status": "in_progress"},
                                headers=bearer(people["root"]))
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("title", "description", "priority", "status", "due_date",
                                         "assigned_user")} == {
        "title": "New title", "description": "", "priority": "medium", "status": "in_progress",
        "due_date": None, "assigned_user": None}


def test_put_needs_a_title(tasks_client, people, create):
    task = create()
    response = tasks_client.put(f"/api/tasks/{task['id']}/", json={"status": "completed"},
                                headers=bearer(people["root"]))
    assert response.status_code == 400 and "title" in response.json["errors"]


def test_a_users_put_keeps_the_task_theirs(tasks_client, people, create):
    task = create("ann")
    response = tasks_client.put(f"/api/tasks/{task['id']}/", json={"title": "Mine still"},
                                headers=bearer(people["ann"]))
    assert response.status_code == 200 and response.json["assigned_user"] == 2


def test_patch_changes_only_the_fields_given(tasks_client, people, create):
    task = create(description="keep me", priority="low")
    response = tasks_client.patch(f"/api/tasks/{task['id']}/", json={"status": "completed"},
                                  headers=bearer(people["root"]))
    assert response.status_code == 200
    assert (response.json["status"], response.json["description"], response.json["priority"]) == (
        "completed", "keep me", "low")
    assert response.json["updated_at"] > task["updated_at"]


def test_a_user_works_on_their_task(tasks_client, people, create):
    task = create(assigned_user=2)
    response = tasks_client.patch(f"/api/tasks/{task['id']}/", json={"status": "in_progress"},
                                  headers=bearer(people["ann"]))
    assert response.status_code == 200 and response.json["status"] == "in_progress"


@pytest.mark.parametrize("assignee", [3, None])
def test_a_user_cannot_give_their_task_away(tasks_client, people, create, assignee):
    task = create(assigned_user=2)
    response = tasks_client.patch(f"/api/tasks/{task['id']}/", json={"assigned_user": assignee},
                                  headers=bearer(people["ann"]))
    assert response.status_code == 403
    assert tasks_client.get(f"/api/tasks/{task['id']}/", headers=bearer(people["ann"])).json["assigned_user"] == 2


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_user_cannot_touch_another_users_task(tasks_client, people, create, method, task_events):
    task = create(assigned_user=3)
    before = len(task_events())
    response = getattr(tasks_client, method)(f"/api/tasks/{task['id']}/", json={"title": "mine now"},
                                             headers=bearer(people["ann"]))
    assert response.status_code == 404
    assert tasks_client.get(f"/api/tasks/{task['id']}/", headers=bearer(people["bob"])).json["title"] == "Fix login"
    assert len(task_events()) == before


def test_admin_reassigns_to_an_active_user_but_not_an_inactive_one(tasks_client, people, create):
    task = create(assigned_user=2)
    url = f"/api/tasks/{task['id']}/"
    assert tasks_client.patch(url, json={"assigned_user": 3}, headers=bearer(people["root"])).json["assigned_user"] == 3
    refused = tasks_client.patch(url, json={"assigned_user": 4}, headers=bearer(people["root"]))
    assert refused.status_code == 400 and "assigned_user" in refused.json["errors"]


def test_delete_removes_the_task(tasks_client, people, create):
    task = create("ann")
    assert tasks_client.delete(f"/api/tasks/{task['id']}/", headers=bearer(people["ann"])).status_code == 204
    assert tasks_client.get(f"/api/tasks/{task['id']}/", headers=bearer(people["root"])).status_code == 404
    assert tasks_client.delete(f"/api/tasks/{task['id']}/", headers=bearer(people["root"])).status_code == 404


def test_patch_with_bad_input_is_a_400_and_changes_nothing(tasks_client, people, create):
    task = create()
    for body in ({"priority": "urgent"}, {"title": ""}, {"due_date": "tomorrow"}, {"owner": 1}):
        response = tasks_client.patch(f"/api/tasks/{task['id']}/", json=body, headers=bearer(people["root"]))
        assert response.status_code == 400 and set(body) <= set(response.json["errors"])
    assert tasks_client.get(f"/api/tasks/{task['id']}/", headers=bearer(people["root"])).json == task


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_a_write_without_a_body_is_a_400_and_changes_nothing(tasks_client, people, create, method):
    task = create()
    path = "/api/tasks/" if method == "post" else f"/api/tasks/{task['id']}/"
    response = getattr(tasks_client, method)(path, headers=bearer(people["root"]))
    assert response.status_code == 400
    assert response.json["errors"] == {"body": ["A JSON request body is required."]}
    assert tasks_client.get(f"/api/tasks/{task['id']}/", headers=bearer(people["root"])).json == task


def test_the_openapi_document_says_free_text_refuses_nul_and_a_title_refuses_blanks(tasks_client):
    schema = tasks_client.get("/api/tasks/openapi.json").json["components"]["schemas"]["TaskWrite"]
    assert schema["properties"]["description"]["pattern"] == r"^[^\x00]*$"
    title = re.compile(schema["properties"]["title"]["pattern"])
    assert title.match("Fix login") and title.match(" x\t") and title.match("é")
    assert not title.match("\t") and not title.match("   ") and not title.match("a\x00")


def test_a_connection_lost_after_the_commit_does_not_turn_the_answer_into_a_500(people, task_events):
    """As when PostgreSQL restarts mid-request: the change is committed, then the request's connection
    dies before it is returned to the pool. The client must hear of the change it made."""
    import psycopg2
    from sqlalchemy import text

    from taskwire_common.db import db
    from tests.integration.support import TASKS_DATABASE_URL, admit, migrated_app

    app = migrated_app("tasks_svc", TASKS_DATABASE_URL)
    admit(app, (1, True), (2, True))

    @app.after_request
    def connection_dies(response):
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()  # a new transaction, as a refresh
        with psycopg2.connect(TASKS_DATABASE_URL) as other, other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return response

    response = app.test_client().post("/api/tasks/", json={"title": "Fix login", "assigned_user": 2},
                                      headers=bearer(people["root"]))
    assert response.status_code == 201, response.data
    assert [event["type"] for event in task_events()] == ["task.created"]


def test_a_pooled_connection_found_dead_after_idling_is_replaced_before_the_write(tasks_client, people,
                                                                                  kill_connections, monkeypatch):
    from taskwire_common import db
    admin = bearer(people["root"])
    assert tasks_client.post("/api/tasks/", json={"title": "First"}, headers=admin).status_code == 201
    kill_connections()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled connection has idled past it
    response = tasks_client.post("/api/tasks/", json={"title": "Second"}, headers=admin)
    assert response.status_code == 201, response.json


def test_a_connection_killed_just_after_use_fails_one_write_with_a_503_then_the_pool_is_renewed(
        tasks_client, people, task_events, kill_connections, monkeypatch):
    from taskwire_common import db
    admin = bearer(people["root"])
    assert tasks_client.post("/api/tasks/", json={"title": "First"}, headers=admin).status_code == 201
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # no pooled connection counts as idle
    kill_connections()
    failed = tasks_client.post("/api/tasks/", json={"title": "Lost"}, headers=admin)
    assert failed.status_code == 503 and failed.json["status"] == 503
    assert tasks_client.post("/api/tasks/", json={"title": "Second"}, headers=admin).status_code == 201
    assert [event["data"]["task"]["title"] for event in task_events()] == ["First", "Second"]
