"""Nothing a user does is lost or doubled, through nginx: concurrent editors with If-Match, retried creates."""
import random
import uuid

import requests

from tests.e2e.support import log_in, queue_backlog
from tests.support import at_once, bearer, wait_for


def admin_token(gateway, admin):
    return log_in(gateway, admin.username, admin.password)["token"]


def task_url(gateway, task_id):
    return f"{gateway}/api/tasks/{task_id}/"


def notifications_about(gateway, user, task_id):
    response = requests.get(f"{gateway}/api/notifications/?page_size=100", headers=bearer(user.token), timeout=5)
    assert response.status_code == 200
    return [n for n in response.json() if n["task_id"] == task_id]


def test_the_etag_and_if_match_work_through_the_gateway(gateway, admin_session, user, assign_to):
    task = assign_to(user)
    for prefix in ("/api", "/api/v1"):
        url = f"{gateway}{prefix}/tasks/{task['id']}/"
        read = admin_session.get(url, timeout=5)
        etag = read.headers["ETag"]
        assert etag == f'"{read.json()["version"]}"'
        assert admin_session.get(url, headers={"If-None-Match": etag}, timeout=5).status_code == 304
        changed = admin_session.patch(url, json={"description": prefix}, headers={"If-Match": etag}, timeout=5)
        assert changed.status_code == 200 and changed.headers["ETag"] == f'"{read.json()["version"] + 1}"'
        stale = admin_session.patch(url, json={"description": "stale"}, headers={"If-Match": etag}, timeout=5)
        assert stale.status_code == 412 and stale.json()["current"] == changed.json()


def test_many_concurrent_patches_with_one_if_match_make_one_change_one_event_one_notification(
        gateway, admin, user, assign_to, task_tap, open_feed):
    task = assign_to(user)
    feed = open_feed(user.token)
    wait_for(lambda: [e for e in task_tap.drain() if e.task_id == task["id"]], message="the create's event")
    token = admin_token(gateway, admin)

    def patch(number):
        return requests.patch(task_url(gateway, task["id"]), json={"status": "in_progress", "description": str(number)},
                              headers={**bearer(token), "If-Match": '"1"'}, timeout=10)

    answers = at_once(20, patch)
    assert sorted(answer.status_code for answer in answers) == [200] + [412] * 19
    [winner] = [answer.json() for answer in answers if answer.status_code == 200]
    assert winner["version"] == 2
    assert all(answer.json()["current"] == winner for answer in answers if answer.status_code == 412)
    wait_for(lambda: queue_backlog() == 0, message="the notification consumer idle")
    updates = [e for e in task_tap.drain() if e.task_id == task["id"] and e.type == "task.updated"]
    assert [e.task for e in updates] == [winner]
    changed = [n for n in notifications_about(gateway, user, task["id"]) if n["event_type"] == "task.updated"]
    assert len(changed) == 1

    def updates_on_socket():
        return [m["task"] for m in feed.of_type("task_update")
                if m["task"]["id"] == task["id"] and m["action"] == "task_updated"]
    wait_for(updates_on_socket, message="the change on the user's socket")
    assert updates_on_socket() == [winner]


def test_a_retry_storm_of_one_create_makes_one_task_one_event_one_notification(
        gateway, admin, user, assign_to, task_tap):
    assign_to(user)  # the user known to tasks_svc
    token, key = admin_token(gateway, admin), str(uuid.uuid4())
    title = f"Storm {key[:8]}"

    def create(_number):
        return requests.post(f"{gateway}/api/tasks/", json={"title": title, "assigned_user": user.id}, timeout=10,
                             headers={**bearer(token), "Idempotency-Key": key})

    answers = at_once(20, create)
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409} and 201 in statuses
    bodies = {answer.content for answer in answers if answer.status_code == 201}
    assert len(bodies) == 1
    task_id = answers[statuses.index(201)].json()["id"]
    late = create(0)  # after the storm every retry is a replay
    assert late.status_code == 201 and late.content in bodies and late.headers["Idempotent-Replayed"] == "true"
    mine = requests.get(f"{gateway}/api/tasks/?q={title}", headers=bearer(user.token), timeout=5).json()
    assert [task["id"] for task in mine] == [task_id]
    wait_for(lambda: queue_backlog() == 0, message="the notification consumer idle")
    assert [e.type for e in task_tap.drain() if e.task_id == task_id] == ["task.created"]
    assert len(notifications_about(gateway, user, task_id)) == 1


def test_a_thousand_concurrent_conditional_edits_lose_and_double_nothing(gateway, admin, register, assign_to,
                                                                         task_tap):
    """Eight clients edit five tasks at once, 1,000 attempts in all, each a read and a PATCH with If-Match
    that appends the client's mark. Every acknowledged mark is in its task exactly once, in version order,
    with one event each; every refused one is a 412 that left no trace."""
    people = [register() for _ in range(2)]
    tasks = [assign_to(people[number % 2], description="") for number in range(5)]
    clients, attempts_each = 8, 125
    acknowledged, refused = {task["id"]: {} for task in tasks}, []  # task id -> {version: mark}
    # One sign-in for all: eight at once for one account from one address would meet the login throttle,
    # which counts attempts while they are checked (docs/api.md#login-throttling).
    token = admin_token(gateway, admin)

    def edit(client):
        rng, session = random.Random(client), requests.Session()
        session.headers.update(bearer(token))
        for attempt in range(attempts_each):
            task_id, mark = rng.choice(tasks)["id"], f"c{client}a{attempt}"
            read = session.get(task_url(gateway, task_id), timeout=10)
            assert read.status_code == 200, read.text
            body = {"description": (read.json()["description"] + " " + mark).strip()}
            answer = session.patch(task_url(gateway, task_id), json=body, headers={"If-Match": read.headers["ETag"]},
                                   timeout=10)
            assert answer.status_code in (200, 412), answer.text
            if answer.status_code == 200:
                acknowledged[task_id][answer.json()["version"]] = mark
            else:
                assert answer.json()["current_version"] > read.json()["version"]
                refused.append(mark)

    at_once(clients, edit)
    assert sum(map(len, acknowledged.values())) + len(refused) == clients * attempts_each
    assert refused, "no edit ever raced another: the test proved nothing"
    for task in tasks:
        final = requests.get(task_url(gateway, task["id"]), headers=bearer(admin_token(gateway, admin)),
                             timeout=5).json()
        marks = [acknowledged[task["id"]][version] for version in sorted(acknowledged[task["id"]])]
        assert final["description"].split() == marks
        assert final["version"] == 1 + len(marks)
    wait_for(lambda: sum(e.type == "task.updated" for e in task_tap.drain() if e.task_id in acknowledged)
             >= sum(map(len, acknowledged.values())), timeout=30, message="an event for every acknowledged edit")
    for task in tasks:
        updates = [e.task for e in task_tap.events if e.task_id == task["id"] and e.type == "task.updated"]
        assert [t["version"] for t in updates] == list(range(2, 2 + len(acknowledged[task["id"]])))
        assert [t["description"].split()[-1] for t in updates] == [
            acknowledged[task["id"]][version] for version in sorted(acknowledged[task["id"]])]
