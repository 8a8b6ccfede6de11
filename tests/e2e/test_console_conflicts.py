"""The console never overwrites a colleague's change, never makes a task twice, never goes back in time."""
import requests
from playwright.sync_api import expect

from harness import amqp
from taskwire_common import contracts
from tests.e2e.console import card, row, search, sign_in, snapshot, title
from tests.e2e.support import task_tap_url
from tests.support import bearer


def task_url(gateway, task):
    return f"{gateway}/api/tasks/{task['id']}/"


def open_editor(page, task):
    page.get_by_role("button", name=f"Edit ‘{task['title']}’").click()
    return page.get_by_role("dialog", name=f"Edit ‘{task['title']}’")


def patches(page, task):
    """The answers to this page's PATCHes of the task, in order."""
    answers = []
    page.on("response", lambda response: answers.append(response.status) if response.request.method == "PATCH"
            and response.url.endswith(f"/api/tasks/{task['id']}/") else None)
    return answers


def test_an_edit_made_over_a_colleagues_change_shows_what_changed_and_applies_on_request(
        open_console, admin, admin_session, user, assign_to, gateway):
    task = assign_to(user, title=title(), priority="medium")
    page = open_console()
    sign_in(page, admin.username, admin.password)
    search(page, task["title"])
    answers = patches(page, task)
    editor = open_editor(page, task)
    assert admin_session.patch(task_url(gateway, task), json={"priority": "high"}, timeout=5).status_code == 200
    editor.get_by_label("Title").fill(task["title"] + " (renamed)")
    editor.get_by_role("button", name="Save").click()

    conflict = page.get_by_role("dialog", name="Changed by someone else")
    expect(conflict).to_be_visible()
    expect(conflict.locator('tr[data-field="priority"]')).to_contain_text("MediumHigh")
    expect(conflict.locator('tr[data-field="title"]')).to_contain_text(task["title"] + " (renamed)")
    snapshot(page, "conflict-dialog")
    conflict.get_by_role("button", name="Apply my change").click()
    expect(conflict).to_be_hidden()
    expect(row(page, task["title"] + " (renamed)")).to_contain_text("High")
    stored = admin_session.get(task_url(gateway, task), timeout=5).json()
    assert (stored["title"], stored["priority"], stored["version"]) == (task["title"] + " (renamed)", "high", 3)
    assert answers == [412, 200]


def test_discarding_an_edit_keeps_the_colleagues_change(open_console, admin, admin_session, user, assign_to, gateway):
    task = assign_to(user, title=title(), priority="medium")
    page = open_console()
    sign_in(page, admin.username, admin.password)
    search(page, task["title"])
    editor = open_editor(page, task)
    admin_session.patch(task_url(gateway, task), json={"priority": "low"}, timeout=5)
    editor.get_by_label("Priority").select_option("high")
    editor.get_by_role("button", name="Save").click()
    conflict = page.get_by_role("dialog", name="Changed by someone else")
    conflict.get_by_role("button", name="Discard my change").click()
    expect(row(page, task["title"])).to_contain_text("Low")
    stored = admin_session.get(task_url(gateway, task), timeout=5).json()
    assert (stored["priority"], stored["version"]) == ("low", 2)


def test_a_move_on_the_board_over_a_change_made_elsewhere_asks_first(open_console, user, assign_to, gateway):
    task = assign_to(user, title=title())
    page = open_console()
    sign_in(page, user.username, user.password)
    page.get_by_role("link", name="Board").click()
    search(page, task["title"])
    expect(card(page, task["title"])).to_be_visible()
    page.route("**/api/tasks/?*", lambda route: route.abort())  # this page does not see the change below
    requests.patch(task_url(gateway, task), json={"description": "changed elsewhere"}, headers=bearer(user.token),
                   timeout=5)
    page.get_by_label(f"Move to, for ‘{task['title']}’").select_option("completed")
    conflict = page.get_by_role("dialog", name="Changed by someone else")
    expect(conflict.locator('tr[data-field="description"]')).to_contain_text("changed elsewhere")
    expect(conflict.locator('tr[data-field="status"]')).to_contain_text("Completed")
    page.unroute("**/api/tasks/?*")
    conflict.get_by_role("button", name="Apply my change").click()
    expect(page.locator('.column[data-status="completed"] .card-task', has_text=task["title"])).to_be_visible()
    stored = requests.get(task_url(gateway, task), headers=bearer(user.token), timeout=5).json()
    assert (stored["status"], stored["description"]) == ("completed", "changed elsewhere")


def test_a_create_whose_answer_was_lost_is_retried_with_its_key_and_makes_one_task(open_console, user, gateway):
    page = open_console()
    sign_in(page, user.username, user.password)
    keys = []

    def lose_the_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server creates the task...
            route.abort()  # ...and its answer never arrives
        else:
            route.continue_()

    page.route("**/api/tasks/", lose_the_first_answer)
    name = title()
    page.get_by_role("button", name="New task").first.click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Title").fill(name)
    with page.expect_response(lambda r: r.url.endswith("/api/tasks/") and r.request.method == "POST") as created:
        dialog.get_by_role("button", name="Save").click()
    assert created.value.status == 201 and created.value.headers["idempotent-replayed"] == "true"
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    expect(dialog).to_be_hidden()
    mine = requests.get(f"{gateway}/api/tasks/", params={"q": name}, headers=bearer(user.token), timeout=5).json()
    assert len(mine) == 1


def test_a_late_event_older_than_the_row_shown_is_ignored(open_console, user, assign_to, gateway):
    marker = title()
    late, later = assign_to(user, title=f"{marker} stale"), assign_to(user, title=f"{marker} fresh")
    page = open_console()
    sign_in(page, user.username, user.password)
    search(page, marker)
    requests.patch(task_url(gateway, late), json={"status": "in_progress"}, headers=bearer(user.token), timeout=5)
    expect(row(page, late["title"])).to_contain_text("In progress")
    first_toast = page.locator("#toasts .toast", has_text=late["title"])
    expect(first_toast).to_have_count(1)
    first_toast.get_by_role("button", name="Dismiss").click()

    # The task as it was (version 1) delivered late, as a redelivery would, then a change of another task.
    amqp.publish(task_tap_url(), [contracts.task_updated(late, {"status": ["in_progress", "todo"]},
                                                         contracts.Actor(user.id, user.username))])
    requests.patch(task_url(gateway, later), json={"priority": "high"}, headers=bearer(user.token), timeout=5)
    expect(page.locator("#toasts .toast", has_text=later["title"])).to_be_visible()
    # Their toasts come in the order of their events: the late one's would be showing by now.
    expect(page.locator("#toasts .toast", has_text=late["title"])).to_have_count(0)
    expect(row(page, late["title"])).to_contain_text("In progress")
