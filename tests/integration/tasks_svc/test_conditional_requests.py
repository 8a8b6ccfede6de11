"""Versions, ETags and If-Match on a real PostgreSQL: no change is lost between two editors."""
import pytest

from tests.support import at_once, bearer


@pytest.fixture
def admin(people):
    return bearer(people["root"])


@pytest.fixture
def task(tasks_client, admin):
    response = tasks_client.post("/api/tasks/", json={"title": "Fix login", "assigned_user": 2}, headers=admin)
    assert response.status_code == 201
    return response.json


def url(task):
    return f"/api/tasks/{task['id']}/"


def current(tasks_client, admin, task):
    return tasks_client.get(url(task), headers=admin).json


def test_a_new_task_is_version_1_and_every_change_adds_one(tasks_client, admin, task, task_events):
    assert task["version"] == 1
    assert tasks_client.patch(url(task), json={"status": "in_progress"}, headers=admin).json["version"] == 2
    assert tasks_client.put(url(task), json={"title": "Fix login", "assigned_user": 2}, headers=admin
                            ).json["version"] == 3
    unchanged = tasks_client.patch(url(task), json={"title": "Fix login"}, headers=admin)
    assert unchanged.status_code == 200 and unchanged.json["version"] == 3  # a change that changes nothing
    assert [event["data"]["task"]["version"] for event in task_events()] == [1, 2, 3]


def test_every_task_event_carries_the_version_the_change_left(tasks_client, admin, task, task_events):
    tasks_client.patch(url(task), json={"priority": "high"}, headers=admin)
    assert tasks_client.delete(url(task), headers=admin).status_code == 204
    assert [(event["type"], event["data"]["task"]["version"]) for event in task_events()] == [
        ("task.created", 1), ("task.updated", 2), ("task.deleted", 2)]  # a delete: the task as it was


def test_get_answers_the_version_as_etag_and_if_none_match_with_it_is_a_304(tasks_client, admin, task):
    response = tasks_client.get(url(task), headers=admin)
    assert response.headers["ETag"] == '"1"'
    not_modified = tasks_client.get(url(task), headers={**admin, "If-None-Match": '"1"'})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert not_modified.headers["ETag"] == '"1"'
    tasks_client.patch(url(task), json={"status": "completed"}, headers=admin)
    changed = tasks_client.get(url(task), headers={**admin, "If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"' and changed.json["status"] == "completed"
    assert tasks_client.get(url(task), headers={**admin, "If-None-Match": 'W/"2"'}).status_code == 304


def test_create_put_and_patch_answer_the_new_etag(tasks_client, admin):
    created = tasks_client.post("/api/tasks/", json={"title": "x"}, headers=admin)
    assert created.headers["ETag"] == '"1"' and created.headers["Location"] == f"/api/tasks/{created.json['id']}/"
    changed = tasks_client.patch(url(created.json), json={"title": "y"}, headers={**admin, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"' and changed.json["version"] == 2
    replaced = tasks_client.put(url(created.json), json={"title": "z"}, headers={**admin, "If-Match": '"2"'})
    assert replaced.status_code == 200 and replaced.headers["ETag"] == '"3"'


@pytest.mark.parametrize("method,body", [("patch", {"status": "completed"}), ("put", {"title": "Replaced"}),
                                         ("delete", None)])
@pytest.mark.parametrize("if_match", ['"stale"', '"2"', 'W/"1"', '"0", "2"'])
def test_a_write_with_an_if_match_of_another_version_is_a_412_and_changes_nothing(
        tasks_client, admin, task, task_events, method, body, if_match):
    response = getattr(tasks_client, method)(url(task), json=body, headers={**admin, "If-Match": if_match})
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json" and response.headers["ETag"] == '"1"'
    assert response.json["current_version"] == 1 and response.json["current"] == task
    assert "version 1" in response.json["detail"]
    assert current(tasks_client, admin, task) == task
    assert [event["type"] for event in task_events()] == ["task.created"]


@pytest.mark.parametrize("if_match", ['"1"', "*", '"7", "1"', "1"])
def test_a_write_with_a_matching_if_match_applies(tasks_client, admin, task, if_match):
    response = tasks_client.patch(url(task), json={"status": "completed"}, headers={**admin, "If-Match": if_match})
    assert response.status_code == 200 and response.json["status"] == "completed"


def test_a_delete_with_a_matching_if_match_deletes(tasks_client, admin, task):
    assert tasks_client.delete(url(task), headers={**admin, "If-Match": '"1"'}).status_code == 204
    assert tasks_client.get(url(task), headers=admin).status_code == 404


def test_if_none_match_star_refuses_a_write_to_a_task_that_exists(tasks_client, admin, task, task_events):
    response = tasks_client.patch(url(task), json={"title": "y"}, headers={**admin, "If-None-Match": "*"})
    assert response.status_code == 412 and current(tasks_client, admin, task) == task
    assert len(task_events()) == 1


def test_a_get_with_an_if_match_of_another_version_is_a_412(tasks_client, admin, task):
    assert tasks_client.get(url(task), headers={**admin, "If-Match": '"9"'}).status_code == 412
    assert tasks_client.get(url(task), headers={**admin, "If-Match": '"1"'}).status_code == 200


def test_a_precondition_never_tells_a_user_about_a_task_that_is_not_theirs(tasks_client, people, task):
    for headers in ({"If-Match": '"1"'}, {"If-Match": '"9"'}, {"If-None-Match": "*"}):
        response = tasks_client.patch(url(task), json={"title": "mine"}, headers={**bearer(people["bob"]), **headers})
        assert response.status_code == 404
        assert tasks_client.get(url(task), headers={**bearer(people["bob"]), **headers}).status_code == 404


def test_a_stale_if_match_is_checked_before_the_assignment_rules(tasks_client, people, task):
    """Preconditions first (RFC 9110 §13.2.2): the caller learns that its copy is stale."""
    response = tasks_client.patch(url(task), json={"assigned_user": 3},
                                  headers={**bearer(people["ann"]), "If-Match": '"5"'})
    assert response.status_code == 412


def test_concurrent_patches_with_one_if_match_give_exactly_one_200_and_the_rest_412(
        tasks_db, admin, task, task_events):
    def patch(number):
        response = tasks_db.test_client().patch(url(task), json={"description": f"edit {number}"},
                                                headers={**admin, "If-Match": '"1"'})
        return response.status_code, response.json

    answers = at_once(12, patch)
    winners = [body for status, body in answers if status == 200]
    assert sorted(status for status, _ in answers) == [200] + [412] * 11
    assert all(body["current"] == winners[0] for status, body in answers if status == 412)
    updates = [event for event in task_events() if event["type"] == "task.updated"]
    assert len(updates) == 1 and updates[0]["data"]["task"] == winners[0]


def test_concurrent_patches_without_if_match_all_apply_one_after_the_other(tasks_db, admin, task, task_events):
    """No precondition: every change applies, and each event describes the version it replaced."""
    def patch(number):
        response = tasks_db.test_client().patch(url(task), json={"description": f"edit {number}"}, headers=admin)
        return response.status_code, response.json

    answers = at_once(12, patch)
    assert [status for status, _ in answers] == [200] * 12
    assert sorted(body["version"] for _, body in answers) == list(range(2, 14))
    updates = [event["data"] for event in task_events() if event["type"] == "task.updated"]
    assert [data["task"]["version"] for data in updates] == list(range(2, 14))
    for before, after in zip(updates, updates[1:], strict=False):
        assert after["changes"]["description"][0] == before["task"]["description"]
