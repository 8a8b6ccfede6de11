"""Resuming the live feed through nginx: a client that comes back with its cursor misses nothing and gets nothing twice.

Each scenario closes a user's socket, makes 50 task changes (half on the user's tasks), and
resumes with the last cursor the socket received: the resumed socket must show exactly the
user's 25 changes, in the order they were made, then a live one. Task changes are told apart
by (task id, version), which each change moves on by one.
"""
import uuid

import pika
import pytest

from broker import topology
from harness.infra import rabbitmq
from harness.standalone_relay import standalone_relay
from taskwire_common.messaging import MARK_TYPE
from tests.e2e.support import PROFILE, STACK, supervisorctl, task_tap_url, wait_until_healthy
from tests.support import wait_for

# A second relay instance beside the stack's, on a port of the test profile's range that no process uses.
SECOND_RELAY_PORT = PROFILE.gateway_port + 14


def last_cursor(feed):
    return [m for m in feed.messages if "cursor" in m][-1]["cursor"]


def hello_of(feed):
    wait_for(lambda: feed.messages, timeout=10, message="the hello")
    hello = feed.messages[0]
    assert hello["type"] == "hello" and hello["cursor"]
    return hello


def changes_of(feed):
    """The task changes a feed received (not the creations of the scenario's tasks, which may reach a socket
    opened right after them)."""
    return [(m["task"]["id"], m["task"]["version"]) for m in feed.of_type("task_update")
            if m["action"] == "task_updated"]


class Changes:
    """The admin changes tasks of two users, alternating; remembers the changes the first one may see."""

    def __init__(self, gateway, admin_session, assign_to, ann, bob):
        self.gateway, self.admin, self.assign_to, self.ann, self.bob = gateway, admin_session, assign_to, ann, bob
        self.tasks = {ann.id: assign_to(ann, title="ann's"), bob.id: assign_to(bob, title="bob's")}
        self.made = 0

    def make(self, count):
        """`count` changes, half on ann's task: returns ann's as (task id, version), in the order made."""
        seen = []
        for number in range(count):
            owner = self.ann if number % 2 == 0 else self.bob
            task = self.tasks[owner.id]
            self.made += 1  # a new title each time: a PATCH that changes nothing makes no event
            response = self.admin.patch(f"{self.gateway}/api/tasks/{task['id']}/", timeout=10,
                                        json={"title": f"change {self.made}"})
            assert response.status_code == 200, response.text
            self.tasks[owner.id] = response.json()
            if owner is self.ann:
                seen.append((task["id"], response.json()["version"]))
        return seen


@pytest.fixture
def changes(gateway, admin_session, assign_to, register):
    return Changes(gateway, admin_session, assign_to, register(), register())


def resumed_and_live(open_feed, changes, cursor, expected, at=None):
    """Resume ann's feed from `cursor`: exactly `expected`, in order; then one live change, once."""
    feed = open_feed(changes.ann.token, since=cursor, at=at)
    assert hello_of(feed)["cursor"] == cursor
    wait_for(lambda: len(changes_of(feed)) >= len(expected), timeout=20, message="the missed changes")
    live = changes.make(1)
    wait_for(lambda: len(changes_of(feed)) >= len(expected) + 1, timeout=10, message="a live change")
    assert changes_of(feed) == expected + live
    assert not feed.of_type("resync_required")
    ids = [m["event_id"] for m in feed.messages if "event_id" in m]
    assert len(ids) == len(set(ids)), "no message twice"
    return feed


def closed_after_a_change(open_feed, changes):
    """Ann's socket, closed once it has received a change of her task: its last cursor names that change."""
    feed = open_feed(changes.ann.token)
    hello_of(feed)
    first = changes.make(1)
    wait_for(lambda: changes_of(feed) == first, timeout=10, message="the first change")
    feed.close()
    wait_for(lambda: feed.closed, timeout=5, message="the socket closed")
    return last_cursor(feed)


def test_a_resumed_socket_gets_exactly_the_changes_it_may_see_in_order_then_live(open_feed, changes):
    cursor = closed_after_a_change(open_feed, changes)
    expected = changes.make(50)
    resumed_and_live(open_feed, changes, cursor, expected)


def test_the_notifications_path_resumes_with_the_users_notifications_only(open_feed, changes):
    notes = open_feed(changes.ann.token, "/ws/notifications/")
    hello_of(notes)
    changes.make(2)
    wait_for(lambda: notes.of_type("notification"), timeout=15, message="a first notification")
    notes.close()
    cursor = last_cursor(notes)
    changes.make(10)  # five on ann's task: five "updated" notifications for her
    resumed = open_feed(changes.ann.token, "/ws/notifications/", since=cursor)
    wait_for(lambda: len(resumed.of_type("notification")) >= 5, timeout=20, message="the missed notifications")
    assert {m["type"] for m in resumed.messages} == {"hello", "notification"}
    assert {m["notification"]["user"] for m in resumed.of_type("notification")} == {changes.ann.id}
    seen_before = {m["event_id"]: m["notification"] for m in notes.of_type("notification")}
    assert not seen_before.keys() & {m["event_id"] for m in resumed.of_type("notification")}, "no message twice"
    # Ann's changes may fold into the notification she saw before the socket closed (issue 18's coalescing): then
    # it comes back with the same id and a higher count, an update of it, not a double.
    counts = {notification["id"]: notification["count"] for notification in seen_before.values()}
    assert all(m["notification"]["count"] > counts[m["notification"]["id"]]
               for m in resumed.of_type("notification") if m["notification"]["id"] in counts)


def test_resuming_across_a_relay_restart_misses_nothing(open_feed, changes):
    cursor = closed_after_a_change(open_feed, changes)
    supervisorctl("stop", "taskwire:ws_relay")
    try:
        expected = changes.make(50)  # kept in the stream while no relay runs
    finally:
        supervisorctl("start", "taskwire:ws_relay")
    wait_until_healthy()
    resumed_and_live(open_feed, changes, cursor, expected)


def test_resuming_across_a_broker_restart_misses_nothing_and_open_sockets_stay_open(open_feed, changes):
    cursor = closed_after_a_change(open_feed, changes)
    staying = open_feed(changes.ann.token, since=cursor)
    hello_of(staying)
    rabbitmq("stop")
    try:
        expected = changes.make(50)  # committed with their events; published once the broker is back
    finally:
        rabbitmq("start")
    wait_until_healthy()
    resumed_and_live(open_feed, changes, cursor, expected)
    wait_for(lambda: len(changes_of(staying)) == len(expected) + 1, timeout=20, message="the open socket's changes")
    assert not staying.closed and changes_of(staying)[:len(expected)] == expected


@pytest.fixture
def second_relay():
    """Another relay instance beside the stack's: its own process, reader and history."""
    address = f"http://127.0.0.1:{SECOND_RELAY_PORT}"
    # The test's client sends its own address as Origin (websocket-client does), as a browser on that host would.
    origins = f"{STACK.process_env('ws_relay')['WS_ALLOWED_ORIGINS']},{address}"
    log_file = PROFILE.log_dir / "second_relay.log"  # beside the stack's logs
    with open(log_file, "ab") as log, standalone_relay(STACK, SECOND_RELAY_PORT, {"WS_ALLOWED_ORIGINS": origins},
                                                       output=log):
        yield address


def test_a_cursor_from_one_relay_instance_resumes_on_another(open_feed, changes, second_relay):
    cursor = closed_after_a_change(open_feed, changes)
    expected = changes.make(50)
    resumed_and_live(open_feed, changes, cursor, expected, at=second_relay)


def resynced(open_feed, token, since):
    """The hello names the tail, or the cursor sent if it looked like one of ours until the stream said otherwise."""
    feed = open_feed(token, since=since)
    wait_for(lambda: len(feed.messages) >= 2, timeout=10, message="hello and resync_required")
    hello, resync = feed.messages[:2]
    assert hello["type"] == "hello" and hello["cursor"] in (since, resync["cursor"])
    assert resync["type"] == "resync_required" and resync["cursor"] != since
    return feed


@pytest.mark.parametrize("since", ["garbage", "", "1.deadbeef", "99999999999.00000000", "%00", "9" * 500])
def test_a_cursor_the_relay_cannot_serve_gets_resync_required_then_live_events(open_feed, changes, since):
    feed = resynced(open_feed, changes.ann.token, since)
    live = changes.make(1)
    wait_for(lambda: changes_of(feed) == live, timeout=10, message="a live change after the resync")
    assert not feed.closed


def test_a_quiet_socket_is_kept_within_the_history_by_cursor_messages(open_feed, changes):
    """Bob sees none of 60 changes to Ann's task; the relay (200 entries of history in the test profile) sends
    him the tail's cursor at a ping once the feed is 50 past him, and resuming from it replays nothing."""
    quiet = open_feed(changes.bob.token)
    hello_of(quiet)
    for _ in range(60):
        changes.make(1)  # the first of each make() is Ann's
    wait_for(lambda: quiet.of_type("cursor"), timeout=10, message="a cursor message")
    # (His own task's creation may reach him, if its event was published after his socket opened.)
    assert all(m["task"]["assigned_user"] == changes.bob.id for m in quiet.of_type("task_update"))
    quiet.close()
    resumed = open_feed(changes.bob.token, since=last_cursor(quiet))
    assert hello_of(resumed)["cursor"] == last_cursor(quiet)
    changes.make(2)  # Ann's, then Bob's
    bobs = changes.tasks[changes.bob.id]
    wait_for(lambda: changes_of(resumed), timeout=10, message="Bob's live change")
    assert changes_of(resumed) == [(bobs["id"], bobs["version"])] and not resumed.of_type("resync_required")


def fill_the_stream(count, size):
    """Append entries no client is shown straight to the feed stream (as the relay's own marks)."""
    connection = pika.BlockingConnection(pika.URLParameters(task_tap_url()))
    channel = connection.channel()
    channel.confirm_delivery()
    for _ in range(count):
        channel.basic_publish("", topology.FEED_STREAM, b"x" * size,
                              pika.BasicProperties(type=MARK_TYPE, message_id=str(uuid.uuid4())))
    connection.close()


def test_a_cursor_older_than_the_relays_history_is_resumed_from_the_stream(open_feed, changes):
    cursor = closed_after_a_change(open_feed, changes)
    expected = changes.make(10)
    fill_the_stream(300, 100)  # the test profile's relays keep 200 entries in memory; the stream keeps 1 MB
    expected += changes.make(10)
    resumed_and_live(open_feed, changes, cursor, expected)


def test_a_cursor_older_than_the_retention_gets_resync_required(open_feed, changes):
    cursor = closed_after_a_change(open_feed, changes)
    # Out of the relays' history (200 entries) and out of the stream (1 MB, in segments of 100 kB).
    fill_the_stream(300, 5000)

    def resyncs():
        feed = open_feed(changes.ann.token, since=cursor)
        wait_for(lambda: len(feed.messages) >= 2 or changes_of(feed), timeout=10, message="a resync or a replay")
        return feed.messages[1]["type"] == "resync_required"
    wait_for(resyncs, timeout=20, interval=0.2, message="every relay process past the filler")
