"""The web console in headless Chromium (Playwright): the browser it runs in and what the tests do in it.

The `browser` and `open_console` fixtures are in conftest.py."""
import uuid

from playwright.sync_api import expect

from tests.e2e.support import REPO

CHROMIUM = "/usr/bin/chromium"  # Debian's package (scripts/ensure-infra.sh); Playwright downloads no browser
# What works as root on a machine with no network beyond localhost.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "var" / "test" / "artifacts"
LIVE_WITHIN_MS = 1000  # a change made elsewhere shows without reload within a second
PHONE = {"width": 390, "height": 844}


def snapshot(page, name):
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def sign_in(page, username, password):
    form = page.locator("#signin-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


def create_task_in_form(page, title, **fields):
    page.get_by_role("button", name="New task").first.click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Title").fill(title)
    if "priority" in fields:
        dialog.get_by_label("Priority").select_option(fields["priority"])
    if "due_date" in fields:
        dialog.get_by_label("Due date").fill(fields["due_date"])
    if "assignee" in fields:
        dialog.get_by_label("Assignee").select_option(label=fields["assignee"])
    with page.expect_response(lambda r: r.url.endswith("/api/tasks/") and r.request.method == "POST") as created:
        dialog.get_by_role("button", name="Save").click()
    return created.value


def row(page, title):
    return page.locator("#task-table tbody tr", has_text=title)


def card(page, title):
    return page.locator(".card-task", has_text=title)


def search(page, text):
    """Narrow the views to one test's tasks: an admin sees every task in the database, over many pages."""
    with page.expect_response(lambda r: "/api/tasks/?" in r.url and "q=" in r.url):
        page.get_by_label("Search").fill(text)


def title():
    return f"Console {uuid.uuid4().hex[:8]}"
