"""The web console in headless Chromium (Playwright): the browser it runs in and what the tests do in it.

The `browser` and `open_console` fixtures are in conftest.py."""
import datetime
import json
import re
import uuid
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.e2e.support import REPO, supervisorctl

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


def server_time(response) -> datetime.datetime:
    """The server's time by an answer's `Date` header: the clock the console's due-date cues go by."""
    return parsedate_to_datetime(response.headers["Date"])


def set_browser_clock(page, when: datetime.datetime):
    """The page's Date.now() and new Date() say `when` from now on (timers keep running), as on a machine whose
    clock is wrong; reloaded, so that the console starts with it."""
    page.clock.set_fixed_time(when)
    page.reload()


def record_most_toasts(page):
    """From now on the page keeps, in window.mostToasts, the largest number of toasts it has shown at once.

    A MutationObserver reports after each change is complete, before the page is painted: a toast shown is
    counted, and one added and dropped in the same step never was on screen."""
    page.evaluate("""() => {
      const box = document.querySelector('#toasts');
      window.mostToasts = box.children.length;
      new MutationObserver(() => { window.mostToasts = Math.max(window.mostToasts, box.children.length); })
        .observe(box, { childList: true });
    }""")


def most_toasts(page) -> int:
    return page.evaluate("window.mostToasts")


class Traffic:
    """What a page read from the API and what its live feed did, in the order Playwright reports it.

    The log holds ("GET", path) for each API read, ("socket", url) for each /ws/tasks/ socket the page
    opens (or tries to) and ("message", message) for each message one receives."""

    def __init__(self, page):
        self.log: list[tuple[str, Any]] = []
        page.on("request", self.requested)
        page.on("websocket", self.opened)

    def requested(self, request):
        path = urlsplit(request.url).path
        if request.method == "GET" and path.startswith("/api/"):
            self.log.append(("GET", path))

    def opened(self, socket):
        if "/ws/tasks/" in socket.url:
            self.log.append(("socket", socket.url))
            socket.on("framereceived", lambda payload: self.log.append(("message", json.loads(payload))))

    def mark(self) -> int:
        return len(self.log)

    def since(self, mark: int, kind: str) -> list:
        """What the log holds of one kind from `mark` on."""
        return [what for logged, what in self.log[mark:] if logged == kind]

    def story(self, mark: int) -> list[str]:
        """From `mark` on, each message's type and each read ("GET /api/tasks/"); sockets left out."""
        return [what["type"] if kind == "message" else f"GET {what}" for kind, what in self.log[mark:]
                if kind != "socket"]


def since_of(url):
    """The cursor a feed socket resumes from, or None."""
    return parse_qs(urlsplit(url).query).get("since", [None])[0]


def drop_the_feed_while(page, change):
    """Restart the relay, making `change` while the page's feed is down; return once the feed is live again."""
    supervisorctl("stop", "taskwire:ws_relay")
    try:
        expect(page.locator("#live-status")).to_have_attribute("data-state", re.compile("offline|connecting"))
        change()
    finally:
        supervisorctl("start", "taskwire:ws_relay")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=20000)


def resume_from_a_cursor_the_relay_cannot_serve(page):
    """From now on the page's feed resumes from a cursor that names nothing, as one past the retention would.

    The cursor lives in the page's LiveFeed, out of reach; so the page's WebSocket constructor swaps it
    in the URL. The relay judges it as it would any other."""
    page.evaluate("""() => {
      const RealWebSocket = window.WebSocket;
      window.WebSocket = function (url, protocols) {
        return new RealWebSocket(url.replace(/([?&]since=)[^&]*/, '$1not-a-cursor'), protocols);
      };
    }""")
