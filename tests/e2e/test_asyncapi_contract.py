"""The AsyncAPI contract holds on the wire: every event a real workload publishes, and every message a real
socket receives, matches the document the gateway serves at /api/asyncapi.json."""
import pytest
import requests

from harness.amqp import Tap
from harness.api import bearer
from taskwire_common import contracts
from tests.e2e.support import task_tap_url
from tests.support import asyncapi_payload_errors, wait_for


@pytest.fixture
def envelope_tap(test_stack):
    tap = Tap.envelopes(task_tap_url())
    yield tap
    tap.delete()


@pytest.fixture
def served_document(gateway):
    response = requests.get(f"{gateway}/api/asyncapi.json", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    return response.json()


def token_of(session: requests.Session) -> str:
    return session.headers["Authorization"].split(" ", 1)[1]


def test_every_event_and_socket_message_of_a_workload_matches_the_served_document(
        gateway, admin_session, register, assign_to, open_feed, envelope_tap, served_document):
    user, colleague = register(), register()
    admin_feed = open_feed(token_of(admin_session))
    user_feed = open_feed(user.token)
    notifications_feed = open_feed(user.token, path="/ws/notifications/")
    wait_for(lambda: user_feed.messages and admin_feed.messages and notifications_feed.messages, timeout=10,
             message="the hello of every socket")
    start = user_feed.messages[0]["cursor"]

    task = assign_to(user, priority="high")
    url = f"{gateway}/api/tasks/{task['id']}/"
    assert admin_session.patch(url, json={"status": "in_progress"}, timeout=5).status_code == 200
    assert admin_session.patch(url, json={"priority": "low"}, timeout=5).status_code == 200  # notification.updated
    assert admin_session.patch(url, json={"assigned_user": colleague.id}, timeout=5).status_code == 200
    assert admin_session.delete(url, timeout=5).status_code == 204
    role_url = f"{gateway}/api/auth/users/{colleague.id}/role/"
    assert admin_session.put(role_url, json={"role": "admin"}, timeout=5).status_code == 200  # user.updated

    # The user's socket hears of the creation, the change and the reassignment away; then a replay of them.
    wait_for(lambda: len(user_feed.of_type("task_update")) >= 3 and user_feed.of_type("notification"),
             timeout=10, message="the user's task updates and notification")
    wait_for(lambda: any(m.get("action") == "task_deleted" for m in admin_feed.of_type("task_update")),
             timeout=10, message="the admin's task_deleted")
    replay = open_feed(user.token, since=start)
    unservable = open_feed(user.token, since="not-a-cursor")
    wait_for(lambda: len(replay.of_type("task_update")) >= 3, timeout=10, message="the replay")
    wait_for(lambda: unservable.of_type("resync_required"), timeout=10, message="resync_required")

    assert requests.post(f"{gateway}/api/auth/logout/", headers=bearer(user.token), timeout=5).status_code == 200

    def every_type_seen():
        seen = {event["type"] for event in envelope_tap.drain()}
        return seen >= set(contracts.EVENT_TYPES) and any(
            event["type"] == contracts.TASK_DELETED and event["data"]["task"]["id"] == task["id"]
            for event in envelope_tap.events)
    wait_for(every_type_seen, timeout=15, interval=0.1, message="every event type of the contract on the tap")

    events = envelope_tap.drain()
    for event in events:
        assert asyncapi_payload_errors(served_document, event["type"], event) == [], event
    revocations = [event["data"] for event in events if event["type"] == contracts.TOKEN_REVOKED]
    assert any("jti" in data for data in revocations) and any("token_version" in data for data in revocations)

    feeds = (admin_feed, user_feed, notifications_feed, replay, unservable)
    messages = [message for feed in feeds for message in feed.messages]
    for message in messages:
        assert asyncapi_payload_errors(served_document, message["type"], message) == [], message
    assert {message["type"] for message in messages} >= {"hello", "task_update", "notification", "resync_required"}
    assert not notifications_feed.of_type("task_update")
