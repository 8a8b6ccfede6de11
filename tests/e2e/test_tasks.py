"""An admin and a user work on tasks through the gateway; a consumer sees one event per committed change."""
import requests

from taskwire_common.contracts import TASK_CREATED, TASK_DELETED, TASK_UPDATED
from tests.support import bearer, wait_for


def api(gateway, path):
    return f"{gateway}/api/tasks/{path}"


def test_admin_and_user_work_on_tasks_and_each_change_is_one_event(gateway, admin_session, user, assign_to,
                                                                    task_tap):
    as_user = bearer(user.token)
    task = assign_to(user, priority="high", due_date="2026-12-01")
    assert requests.get(api(gateway, ""), headers=as_user, timeout=5).json() == [task]

    started = requests.patch(api(gateway, f"{task['id']}/"), json={"status": "in_progress"}, headers=as_user,
                             timeout=5)
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    own = requests.post(api(gateway, ""), json={"title": "My own"}, headers=as_user, timeout=5)
    assert own.status_code == 201 and own.json()["assigned_user"] == user.id
    given_away = requests.patch(api(gateway, f"{own.json()['id']}/"), json={"assigned_user": 1},
                                headers=as_user, timeout=5)
    assert given_away.status_code == 403
    assert admin_session.delete(api(gateway, f"{own.json()['id']}/"), timeout=5).status_code == 204

    expected = [(TASK_CREATED, task["id"]), (TASK_UPDATED, task["id"]), (TASK_CREATED, own.json()["id"]),
                (TASK_DELETED, own.json()["id"])]
    wait_for(lambda: len(task_tap.drain()) >= 4, message="four task events")
    assert [(e.type, e.task_id) for e in task_tap.events] == expected
    assert task_tap.events[1].changes == {"status": ["todo", "in_progress"]}
    assert task_tap.events[1].actor_username == user.username
    assert all(e.request_id for e in task_tap.events)


def test_a_user_never_sees_another_users_task(gateway, user, register, assign_to):
    other = register()
    theirs = assign_to(other)
    as_user = bearer(user.token)
    assert requests.get(api(gateway, f"{theirs['id']}/"), headers=as_user, timeout=5).status_code == 404
    assert requests.delete(api(gateway, f"{theirs['id']}/"), headers=as_user, timeout=5).status_code == 404
    listed = requests.get(api(gateway, f"?assigned_user={other.id}"), headers=as_user, timeout=5)
    assert listed.json() == []


def test_reassignment_names_both_users_in_its_event(gateway, admin_session, user, register, assign_to, task_tap):
    other = register()
    assign_to(other)  # the directory knows the other user from here on
    task = assign_to(user)
    moved = admin_session.patch(api(gateway, f"{task['id']}/"), json={"assigned_user": other.id}, timeout=5)
    assert moved.status_code == 200
    wait_for(lambda: any(e.type == TASK_UPDATED for e in task_tap.drain()), message="the update event")
    [update] = [e for e in task_tap.events if e.type == TASK_UPDATED]
    assert update.changes["assigned_user"] == [user.id, other.id]


def test_filters_and_pages_through_the_gateway_and_its_v1_alias(gateway, admin_session, user, assign_to):
    for number, priority in enumerate(["low", "high", "high"]):
        assign_to(user, title=f"task {number}", priority=priority, due_date=f"2026-12-0{number + 1}")
    query = f"?assigned_user={user.id}&priority=high&ordering=-due_date&page_size=1"
    for prefix in ("/api/tasks/", "/api/v1/tasks/"):
        response = admin_session.get(gateway + prefix + query, timeout=5)
        assert response.status_code == 200
        assert [t["title"] for t in response.json()] == ["task 2"]
        assert response.headers["X-Total-Count"] == "2"
        assert 'rel="next"' in response.headers["Link"]
    bad = admin_session.get(api(gateway, "?priority=urgent"), timeout=5)
    assert bad.status_code == 400 and "priority" in bad.json()["errors"]
