"""The web console in headless Chromium (Playwright): sign-in, tasks, the live board, notifications, admin."""
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import expect

from tests.e2e.console import (
    LIVE_WITHIN_MS,
    PHONE,
    Traffic,
    card,
    create_task_in_form,
    drop_the_feed_while,
    resume_from_a_cursor_the_relay_cannot_serve,
    row,
    search,
    sign_in,
    since_of,
    snapshot,
    title,
)
from tests.e2e.support import PROFILE, log_in
from tests.support import bearer, wait_for


def test_console_is_served_at_the_gateway_root_with_security_headers(gateway):
    page = requests.get(f"{gateway}/", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' ws://" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    module = requests.get(f"{gateway}/js/main.js", timeout=5)
    assert module.headers["Content-Type"].startswith("text/javascript")
    assert module.headers["Cache-Control"] == "no-cache" and module.headers["ETag"]
    missing = requests.get(f"{gateway}/api/no-such-thing/", timeout=5)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"


def test_user_signs_in_and_sees_the_live_task_table(open_console, user):
    page = open_console()
    sign_in(page, user.username, user.password)
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.locator("#whoami")).to_contain_text(user.username)
    snapshot(page, "signed-in-tasks")


def test_bad_credentials_are_shown_on_the_sign_in_form(open_console, user):
    page = open_console()
    form = page.locator("#signin-form")
    form.get_by_label("Username").fill(user.username)
    form.get_by_label("Password").fill("not-the-password")
    form.get_by_role("button", name="Sign in").click()
    expect(form.get_by_role("alert")).not_to_be_empty()
    expect(page.locator("#app-view")).to_be_hidden()


def test_sign_up_then_sign_out_forgets_the_token(open_console):
    page = open_console()
    name = "u" + uuid.uuid4().hex[:12]
    form = page.locator("#signup-form")
    form.get_by_label("Username").fill(name)
    form.get_by_label("Email").fill(f"{name}@example.com")
    form.get_by_label("Password").fill("password-" + name)
    form.get_by_role("button", name="Create account").click()
    expect(page.locator("#whoami")).to_contain_text(name)
    assert page.evaluate("sessionStorage.getItem('taskwire.session')")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('taskwire.session')") is None
    assert name not in page.url and "token" not in page.url


def test_validation_errors_from_the_api_appear_at_the_field(open_console, user):
    page = open_console()
    sign_in(page, user.username, user.password)
    response = create_task_in_form(page, "   ")
    assert response.status == 400
    dialog = page.get_by_role("dialog", name="New task")
    expect(dialog.locator("#t-title-error")).to_have_text("Must not be blank.")
    expect(dialog.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    snapshot(page, "task-form-field-error")


def test_a_task_a_user_creates_appears_live_for_an_admin(open_console, user, admin):
    admin_page = open_console()
    sign_in(admin_page, admin.username, admin.password)
    user_page = open_console()
    sign_in(user_page, user.username, user.password)
    name = title()
    search(admin_page, name)
    response = create_task_in_form(user_page, name, priority="high", due_date="2030-01-15")
    assert response.status == 201
    expect(row(user_page, name)).to_be_visible()
    # No reload on the admin's side: the feed brings it.
    expect(row(admin_page, name)).to_be_visible(timeout=LIVE_WITHIN_MS)
    expect(row(admin_page, name)).to_contain_text(user.username)
    expect(admin_page.locator("#toasts")).to_contain_text(f"Task ‘{name}’ created")
    snapshot(admin_page, "admin-sees-task-live")


def test_dragging_a_card_changes_its_status_and_the_assignee_reads_the_notification(
        open_console, user, admin, assign_to, gateway):
    task = assign_to(user, title=title(), priority="medium")
    admin_page = open_console()
    sign_in(admin_page, admin.username, admin.password)
    user_page = open_console()
    sign_in(user_page, user.username, user.password)
    for page in (admin_page, user_page):
        page.get_by_role("link", name="Board").click()
        search(page, task["title"])
    todo = admin_page.locator('.column[data-status="todo"]')
    expect(todo.locator(".card-task", has_text=task["title"])).to_be_visible()

    with admin_page.expect_response(lambda r: r.url.endswith(f"/api/tasks/{task['id']}/")
                                    and r.request.method == "PATCH") as patched:
        card(admin_page, task["title"]).drag_to(admin_page.locator('.column[data-status="in_progress"]'))
    assert patched.value.status == 200
    expect(admin_page.locator('.column[data-status="in_progress"] .card-task', has_text=task["title"])).to_be_visible()
    snapshot(admin_page, "board-after-drag")

    # The assignee's board follows, and the toast names who did it (from the notification).
    in_progress = user_page.locator('.column[data-status="in_progress"]')
    expect(in_progress.locator(".card-task", has_text=task["title"])).to_be_visible(timeout=LIVE_WITHIN_MS)
    expect(user_page.locator("#toasts")).to_contain_text(f"{admin.username} changed", timeout=3000)
    token = log_in(gateway, user.username, user.password)["token"]
    stored = requests.get(f"{gateway}/api/tasks/{task['id']}/", headers=bearer(token), timeout=5).json()
    assert stored["status"] == "in_progress"

    # Two notifications: assigned, then changed. Read one, then the rest.
    bell = user_page.locator("#unread-count")
    expect(bell).to_have_text("2")
    user_page.get_by_role("button", name=re.compile("Notifications")).click()
    panel = user_page.get_by_role("dialog", name="Notifications")
    expect(panel.get_by_text(f"{admin.username} assigned you")).to_be_visible()
    snapshot(user_page, "notifications-panel")
    panel.get_by_role("button", name=re.compile(r"^Mark read: .*assigned you")).click()
    expect(bell).to_have_text("1")
    panel.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_text("0")
    expect(panel.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(0)


def test_a_card_moves_from_the_keyboard_too(open_console, user, assign_to):
    task = assign_to(user, title=title())
    page = open_console()
    sign_in(page, user.username, user.password)
    page.get_by_role("link", name="Board").click()
    mover = page.get_by_label(f"Move to, for ‘{task['title']}’")
    mover.focus()
    mover.select_option("completed")
    expect(page.locator('.column[data-status="completed"] .card-task', has_text=task["title"])).to_be_visible()


def test_table_sorts_and_filters_through_the_api(open_console, user, assign_to):
    marker = uuid.uuid4().hex[:8]
    for priority in ("low", "high", "medium"):
        assign_to(user, title=f"{marker} {priority}", priority=priority)
    page = open_console()
    sign_in(page, user.username, user.password)
    page.get_by_label("Search").fill(marker)
    expect(page.locator("#task-table tbody tr")).to_have_count(3)
    page.get_by_role("button", name="Priority", exact=True).click()
    expect(page.locator("#task-table tbody tr td:first-child")).to_have_text(
        [f"{marker} low", f"{marker} medium", f"{marker} high"])
    page.get_by_role("button", name="Priority", exact=True).click()
    expect(page.locator("#task-table thead th", has_text="Priority")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#task-table tbody tr td:first-child").first).to_have_text(f"{marker} high")
    page.locator("#filters").get_by_label("Priority").select_option("medium")
    expect(page.locator("#task-table tbody tr")).to_have_count(1)
    expect(page.locator("#page-info")).to_contain_text("1 tasks")


def create_task(session, gateway, title):
    assert session.post(f"{gateway}/api/tasks/", json={"title": title}, timeout=5).status_code == 201


def test_after_a_dropped_feed_the_console_resumes_and_shows_what_it_missed_without_refetching(
        open_console, admin, admin_session, gateway):
    page = open_console()
    traffic = Traffic(page)
    sign_in(page, admin.username, admin.password)
    name = title()
    search(page, name)
    dropped = traffic.mark()
    last_cursor = traffic.since(0, "message")[-1]["cursor"]
    # Made while the console is away: the relay replays it when the console resumes.
    drop_the_feed_while(page, lambda: create_task(admin_session, gateway, name))
    expect(row(page, name)).to_be_visible()
    # Announced as a live change: only the replayed message can tell the console the task was created.
    expect(page.locator("#toasts")).to_contain_text(f"Task ‘{name}’ created")
    assert {since_of(url) for url in traffic.since(dropped, "socket")} == {last_cursor}
    # The reconnect fetched nothing, not even the unread count; the replayed task cost the table one read,
    # as any live change does.
    assert traffic.story(dropped) == ["hello", "task_update", "GET /api/tasks/"]


def test_when_the_relay_answers_resync_required_the_console_refetches_once(open_console, admin, admin_session, gateway):
    page = open_console()
    traffic = Traffic(page)
    sign_in(page, admin.username, admin.password)
    name = title()
    search(page, name)
    resume_from_a_cursor_the_relay_cannot_serve(page)
    dropped = traffic.mark()
    drop_the_feed_while(page, lambda: create_task(admin_session, gateway, name))
    # Not replayed: only the re-fetch can bring it.
    expect(row(page, name)).to_be_visible()
    assert traffic.story(dropped) == [
        "hello", "resync_required", "GET /api/notifications/unread-count/", "GET /api/tasks/"]


def test_a_revoked_token_sends_the_console_back_to_sign_in(open_console, user, gateway):
    page = open_console()
    sign_in(page, user.username, user.password)
    token = page.evaluate("JSON.parse(sessionStorage.getItem('taskwire.session')).token")
    assert requests.post(f"{gateway}/api/auth/logout/", headers=bearer(token), timeout=5).status_code == 200
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=3000)
    expect(page.locator("#signin-form").get_by_role("alert")).to_contain_text("session has ended")


def test_the_console_opens_its_feed_with_a_ticket_and_no_log_keeps_token_or_ticket(open_console, user):
    access_log = PROFILE.log_dir / "nginx-access.log"
    feeds_logged = lambda: access_log.read_text().count("/ws/tasks/")  # noqa: E731
    before = feeds_logged()
    page = open_console()
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    sign_in(page, user.username, user.password)
    wait_for(lambda: sockets, timeout=5, message="the console's feed")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('taskwire.session')).token")
    query = parse_qs(urlsplit(sockets[0]).query)
    assert "token" not in query and token not in sockets[0]
    ticket = query["ticket"][0]
    page.close()  # nginx writes a WebSocket's line when it ends
    wait_for(lambda: feeds_logged() > before, timeout=5, message="the feed in the access log")
    for log in PROFILE.log_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        assert token not in text and ticket not in text, log.name


def test_admin_creates_a_user_changes_their_role_and_deactivates_them(open_console, admin):
    page = open_console()
    sign_in(page, admin.username, admin.password)
    page.get_by_role("link", name="Users").click()
    form = page.locator("#user-form")
    name = "u" + uuid.uuid4().hex[:12]
    form.get_by_label("Username").fill(name)
    form.get_by_label("Email").fill("not-an-email")
    form.get_by_label("Password").fill("password-" + name)
    form.get_by_role("button", name="Create user").click()
    expect(form.locator("#u-email-error")).not_to_be_empty()
    form.get_by_label("Email").fill(f"{name}@example.com")
    form.get_by_role("button", name="Create user").click()
    user_row = page.locator("#user-table tbody tr", has_text=name)
    expect(user_row).to_be_visible()
    user_row.get_by_label(f"Role of {name}").select_option("admin")
    expect(page.locator("#toasts")).to_contain_text(f"{name} is now an admin")
    # The page reloads names and the table after each change, marked busy meanwhile.
    expect(page.locator("#user-table")).to_have_attribute("aria-busy", "false")
    user_row.get_by_role("button", name=f"Deactivate {name}").click()
    user_row.get_by_role("button", name=f"Really deactivate {name}?").click()
    expect(user_row.locator("td").nth(3)).to_have_text("no")
    snapshot(page, "admin-users")


def test_admin_assigns_a_task_with_the_picker(open_console, admin, user, assign_to):
    assign_to(user, title=title())  # returns once tasks_svc knows the user, so the picker's choice is valid
    page = open_console()
    sign_in(page, admin.username, admin.password)
    name = title()
    search(page, name)
    assert create_task_in_form(page, name, assignee=user.username).status == 201
    expect(row(page, name)).to_contain_text(user.username)


def test_on_a_phone_the_board_is_one_column(open_console, user, assign_to):
    assign_to(user, title=title())
    page = open_console(viewport=PHONE)
    sign_in(page, user.username, user.password)
    page.get_by_role("link", name="Board").click()
    columns = page.locator("#board .column")
    expect(columns).to_have_count(3)
    boxes = [columns.nth(i).bounding_box() for i in range(3)]
    assert boxes[0]["x"] == boxes[1]["x"] == boxes[2]["x"]
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in boxes)
    snapshot(page, "phone-board")
