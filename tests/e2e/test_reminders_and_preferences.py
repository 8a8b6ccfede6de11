"""Due-date reminders, preferences and folded edits through the gateway, on REST and on the user's socket."""
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests

from harness import api
from tests.e2e.support import REPO, STACK, supervisorctl, wait_until_healthy
from tests.support import bearer, wait_for

PRIORITIES = ["low", "medium", "high", "low", "medium", "high"]


def notifications(gateway, user):
    response = requests.get(f"{gateway}/api/notifications/?page_size=100", headers=bearer(user.token), timeout=5)
    assert response.status_code == 200
    return response.json()


def about(gateway, user, task, kind=None):
    return [n for n in notifications(gateway, user) if n["task_id"] == task["id"] and kind in (None, n["kind"])]


def pushed(feed, task, kind=None):
    return [m["notification"] for m in feed.of_type("notification")
            if m["notification"]["task_id"] == task["id"] and kind in (None, m["notification"]["kind"])]


@pytest.fixture
def live_notifications(open_feed, assign_to):
    """The user's /ws/notifications/ socket, once a first notification has reached it."""
    def open_(user):
        feed = open_feed(user.token, "/ws/notifications/")
        warm_up = assign_to(user, title="warm-up")
        wait_for(lambda: pushed(feed, warm_up), timeout=15, message="the socket live")
        return feed
    return open_


@pytest.fixture
def second_notify_worker(tmp_path):
    """Another `python -m notify_svc.worker` with the stack's environment, beside the one the stack runs."""
    log_path = tmp_path / "notify_worker_2.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen([sys.executable, "-m", "notify_svc.worker"], cwd=REPO, stdout=log,
                                  stderr=subprocess.STDOUT, env=STACK.process_env("notify_worker"))
    try:
        wait_for(lambda: "consuming notify_svc.tasks" in log_path.read_text() or worker.poll() is not None,
                 timeout=30, message="the second worker consuming")
        assert worker.poll() is None, log_path.read_text()
        assert "sending due-date reminders every 1 s" in log_path.read_text()
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=15)


def test_a_task_due_today_reminds_its_assignee_once_with_two_workers_scanning(
        gateway, user, assign_to, live_notifications, second_notify_worker):
    feed = live_notifications(user)
    today = datetime.now(timezone.utc).date().isoformat()
    task = assign_to(user, title="Ship it", due_date=today)  # due at the end of today, UTC: due soon at once
    [reminder] = wait_for(lambda: about(gateway, user, task, "due_soon"), timeout=20, message="the reminder")
    assert reminder["event_type"] == "reminder.due_soon" and reminder["user"] == user.id and reminder["count"] == 1
    assert reminder["message"] == f"'Ship it' is due soon: due {today} (medium)"
    wait_for(lambda: pushed(feed, task, "due_soon"), timeout=10, message="the reminder on the socket")
    later = assign_to(user, title="Proof of later scans", due_date=today)
    wait_for(lambda: about(gateway, user, later, "due_soon"), timeout=20, message="a later reminder")
    assert len(about(gateway, user, task, "due_soon")) == 1
    assert [n["id"] for n in pushed(feed, task, "due_soon")] == [reminder["id"]]


def test_a_muted_kind_stays_silent_on_rest_and_on_the_socket(gateway, user, admin_session, assign_to,
                                                              live_notifications):
    muted = requests.put(f"{gateway}/api/notifications/preferences/", json={"updated": False},
                         headers=bearer(user.token), timeout=5)
    assert muted.status_code == 200 and muted.json()["updated"] is False and muted.json()["deleted"] is True
    feed = live_notifications(user)
    task = assign_to(user, title="Quiet")
    admin_session.patch(f"{gateway}/api/tasks/{task['id']}/", json={"priority": "high"}, timeout=5)
    admin_session.delete(f"{gateway}/api/tasks/{task['id']}/", timeout=5)
    # Events of one task are handled in order: once the delete is heard, the update was handled before it.
    wait_for(lambda: pushed(feed, task, "deleted"), timeout=15, message="the delete on the socket")
    assert [n["kind"] for n in about(gateway, user, task)] == ["deleted", "assigned"]
    assert [n["kind"] for n in pushed(feed, task)] == ["assigned", "deleted"]


def test_five_quick_edits_make_one_notification_with_count_five(gateway, user, admin_session, assign_to,
                                                                live_notifications):
    feed = live_notifications(user)
    task = assign_to(user, title="Busy", priority=PRIORITIES[0])
    for priority in PRIORITIES[1:]:
        response = admin_session.patch(f"{gateway}/api/tasks/{task['id']}/", json={"priority": priority}, timeout=5)
        assert response.status_code == 200
    [folded] = wait_for(lambda: [n for n in about(gateway, user, task, "updated") if n["count"] == 5],
                        timeout=20, message="one notification counting five edits")
    assert len(about(gateway, user, task, "updated")) == 1
    assert folded["message"] == ("e2e-admin changed 'Busy': priority low → medium; priority medium → high; "
                                 "priority high → low; priority low → medium; priority medium → high")
    wait_for(lambda: any(n["count"] == 5 for n in pushed(feed, task, "updated")), timeout=10,
             message="the folded notification on the socket")
    assert {n["id"] for n in pushed(feed, task, "updated")} == {folded["id"]}  # pushed again under the same id


def test_a_worker_killed_while_reminders_go_out_sends_none_twice(gateway, user, assign_to, second_notify_worker):
    """SIGKILLs of the stack's worker while two workers send 200 reminders: a scan killed after its claims rolls
    them back with its notifications, so each reminder still arrives exactly once."""
    today = datetime.now(timezone.utc).date().isoformat()
    tasks = []
    for number in range(200):
        tasks.append(assign_to(user, title=f"Due {number}", due_date=today))
        if number % 50 == 25:  # kill while the reminders of the tasks made so far are being sent
            supervisorctl("signal", "KILL", "taskwire:notify_worker")
    supervisorctl("signal", "KILL", "taskwire:notify_worker")
    wanted = {task["id"] for task in tasks}

    def reminders() -> list[dict]:
        every = [n for page in api.notification_pages(gateway, user.token) for n in page]
        return [n for n in every if n["kind"] == "due_soon" and n["task_id"] in wanted]

    wait_for(lambda: {n["task_id"] for n in reminders()} == wanted, timeout=60,
             message="a due-soon reminder for every task")
    wait_until_healthy()  # the killed worker back: supervisord restarts it
    # Scans after all of them (both workers scan every second): a later task's reminder has arrived.
    later = assign_to(user, title="Proof of later scans", due_date=today)
    wait_for(lambda: about(gateway, user, later, "due_soon"), timeout=20, message="a later reminder")
    assert len(reminders()) == len(wanted)  # once each: none twice
