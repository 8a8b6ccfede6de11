"""A user hears of every change someone else makes to their tasks, once, even across consumer restarts."""
import threading

import requests

from tests.e2e.support import queue_backlog, supervisorctl
from tests.support import bearer, wait_for


def notifications(gateway, user):
    response = requests.get(f"{gateway}/api/notifications/?page_size=100", headers=bearer(user.token), timeout=5)
    assert response.status_code == 200
    return response.json(), int(response.headers["X-Total-Count"])


def test_an_admins_change_reaches_the_users_notifications(gateway, admin_session, user, assign_to):
    task = assign_to(user, priority="high", due_date="2026-12-01")
    admin_session.patch(f"{gateway}/api/tasks/{task['id']}/", json={"status": "in_progress"}, timeout=5)
    wait_for(lambda: notifications(gateway, user)[1] == 2, message="two notifications")
    listed, _ = notifications(gateway, user)
    assert [n["message"] for n in listed] == [
        "e2e-admin changed 'Fix login': status todo → in progress",
        "e2e-admin assigned you 'Fix login' (high, due 2026-12-01)"]
    assert all(n["task_id"] == task["id"] and n["user"] == user.id and not n["is_read"] for n in listed)
    unread = requests.get(f"{gateway}/api/notifications/unread-count/", headers=bearer(user.token), timeout=5)
    assert unread.json() == {"unread_count": 2}


def test_the_users_own_changes_make_no_notification(gateway, user):
    created = requests.post(f"{gateway}/api/tasks/", json={"title": "Mine"}, headers=bearer(user.token), timeout=5)
    requests.patch(f"{gateway}/api/tasks/{created.json()['id']}/", json={"status": "completed"},
                   headers=bearer(user.token), timeout=5)
    wait_for(lambda: queue_backlog() == 0, message="the consumer idle")
    assert notifications(gateway, user)[1] == 0


def test_killing_the_consumer_mid_stream_loses_and_doubles_nothing(gateway, admin_session, user, assign_to):
    assign_to(user)
    changes = 150
    done = []

    def make_changes():
        for number in range(changes - 1):
            response = admin_session.post(f"{gateway}/api/tasks/", timeout=5,
                                          json={"title": f"change {number}", "assigned_user": user.id})
            done.append(response.status_code)

    writer = threading.Thread(target=make_changes)
    writer.start()
    for kill in range(1, 3):
        wait_for(lambda kill=kill: len(done) >= 50 * kill or not writer.is_alive(), timeout=30, message="progress")
        supervisorctl("signal", "KILL", "taskwire:notify_worker")
    writer.join()
    assert done == [201] * (changes - 1)
    wait_for(lambda: notifications(gateway, user)[1] >= changes, timeout=60, message="every notification")
    wait_for(lambda: queue_backlog() == 0, timeout=30, message="nothing left in flight")
    assert notifications(gateway, user)[1] == changes
