"""End-to-end fixtures: the whole test-profile stack, started once per session."""
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from playwright.sync_api import sync_playwright

from harness import api
from harness.amqp import Tap
from harness.ws import LiveFeed
from tests.e2e.console import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS
from tests.e2e.support import ADMIN_EMAIL, PROFILE, STACK, log_in, task_tap_url
from tests.support import wait_for


@pytest.fixture(scope="session", autouse=True)
def test_stack():
    """Start the test stack (blocks until healthy through the gateway); always stop it."""
    try:
        STACK.start()
        yield PROFILE.gateway_url
    finally:
        STACK.stop()


@pytest.fixture(scope="session")
def gateway(test_stack):
    """Base URL of the test stack's gateway."""
    return test_stack


ADMIN = SimpleNamespace(username="e2e-admin", password="e2e-admin-password", email=ADMIN_EMAIL)


@pytest.fixture(scope="session")
def admin(test_stack):
    """An admin made the way a newcomer makes one: the create-superuser CLI (idempotent)."""
    STACK.create_superuser(ADMIN.username, ADMIN.password, ADMIN.email)
    return ADMIN


@pytest.fixture
def admin_session(gateway, admin):
    """A requests session carrying a fresh admin token."""
    session = requests.Session()
    session.headers.update(api.bearer(log_in(gateway, admin.username, admin.password)["token"]))
    yield session
    session.close()


@pytest.fixture
def unique_name():
    return "u" + uuid.uuid4().hex[:12]


@pytest.fixture
def register(gateway):
    """Sign up new users through the gateway: each has id, username, password and token."""
    def sign_up():
        name = "u" + uuid.uuid4().hex[:12]
        password = "password-" + name
        response = api.register_response(gateway, name, password, timeout=10)
        assert response.status_code == 201, response.text
        body = response.json()
        return SimpleNamespace(id=body["user"]["id"], username=name, password=password, token=body["token"])
    return sign_up


@pytest.fixture
def user(register):
    """A freshly registered user, signed in."""
    return register()


@pytest.fixture
def task_tap(test_stack):
    tap = Tap(task_tap_url())  # a quorum queue: it survives a broker restart, as consumers do
    yield tap
    tap.delete()


@pytest.fixture
def assign_to(gateway, admin_session):
    """Create a task for a user as the admin, once tasks_svc's directory has learnt of that user."""
    def create(user, **fields):
        def attempt():
            response = admin_session.post(f"{gateway}/api/tasks/", timeout=5,
                                          json={"title": "Fix login", **fields, "assigned_user": user.id})
            assert response.status_code in (201, 400), response.text
            return response.json() if response.status_code == 201 else None
        return wait_for(attempt, timeout=5, interval=0.05, message=f"user {user.id} known to tasks_svc")
    return create


@pytest.fixture
def open_feed(gateway):
    feeds = []

    def open_(token, path="/ws/tasks/", at=None, **options):
        """A feed through the gateway, or at another relay address (`at`)."""
        feed = LiveFeed(at or gateway, token, path, **options)
        feeds.append(feed)
        return feed

    yield open_
    for feed in feeds:
        feed.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-infra.sh as root (apt-get install chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def open_console(browser, gateway, request):
    """Open the console in a fresh browser context (its own sessionStorage: a separate person)."""
    contexts, errors = [], []

    def open_(viewport=None):
        context = browser.new_context(base_url=gateway, viewport=viewport or {"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/")
        return page

    yield open_
    for index, context in enumerate(contexts):
        for page in context.pages:  # what each window showed at the end, for a failing run above all
            page.screenshot(path=ARTIFACTS / f"{request.node.name}-{index}-final.png", full_page=True)
        context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"
