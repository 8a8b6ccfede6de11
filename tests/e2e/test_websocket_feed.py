"""The live feed through nginx: each client sees exactly the events it may see, and a sick client is let go."""
import random
import socket

import pytest
import requests
import websocket

from harness import amqp
from harness.infra import rabbitmq
from harness.ws import ws_url
from taskwire_common import contracts, gunicorn_conf
from tests.e2e.support import PROFILE, STACK, api_notification_ids, queue_backlog, task_tap_url, wait_until_healthy
from tests.support import bearer, wait_for
from ws_relay.config import RelaySettings


def visible_to(user_id, event):
    """The rule as a user reads it: the task was assigned to them before or after the change."""
    return user_id in event.concerns


def task_event_ids(feed, task_ids):
    return {m["event_id"] for m in feed.of_type("task_update") if m["task"]["id"] in task_ids}


def notification_ids(feed, task_ids):
    return {m["notification"]["id"] for m in feed.of_type("notification") if m["notification"]["task_id"] in task_ids}


def until_live(feed, make_event):
    """Make events until this feed shows one: from then on its socket is surely registered."""
    def delivered():
        before = len(feed.messages)
        make_event()
        try:
            wait_for(lambda: len(feed.messages) > before, timeout=1.0, message="a first message")
        except pytest.fail.Exception:
            return False
        return True
    wait_for(delivered, timeout=15, interval=0, message="the feed live")


class RandomChanges:
    """Admin and two users change tasks at random, each call one committed change."""

    def __init__(self, gateway, admin_session, ann, bob, seed=42):
        self.gateway, self.admin, self.people = gateway, admin_session, {ann.id: ann, bob.id: bob}
        self.rng = random.Random(seed)
        self.tasks = {}  # id -> (assignee, status)

    def _call(self, method, path, token=None, **body):
        session = self.admin if token is None else requests
        kwargs = {"timeout": 5, "json": body or None}
        if token is not None:
            kwargs["headers"] = bearer(token)
        response = getattr(session, method)(f"{self.gateway}/api/tasks/{path}", **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response

    def step(self):
        rng, users = self.rng, list(self.people.values())
        actor = rng.choice([None, *users])  # None is the admin
        own = [i for i, (who, _) in self.tasks.items() if actor is None or who == actor.id]
        kind = rng.choice(["create", "create", "patch", "patch", "reassign", "delete"]) if own else "create"
        if kind == "reassign" and actor is not None:
            kind = "patch"
        token = None if actor is None else actor.token
        if kind == "create":
            assignee = rng.choice([None, *[u.id for u in users]]) if actor is None else actor.id
            task = self._call("post", "", token, title=f"random {len(self.tasks)}", assigned_user=assignee).json()
            self.tasks[task["id"]] = (task["assigned_user"], "todo")
        else:
            task_id = rng.choice(own)
            assignee, status = self.tasks[task_id]
            if kind == "delete":
                self._call("delete", f"{task_id}/", token)
                del self.tasks[task_id]
            elif kind == "reassign":
                new = rng.choice([a for a in [None, *[u.id for u in users]] if a != assignee])
                self._call("patch", f"{task_id}/", token, assigned_user=new)
                self.tasks[task_id] = (new, status)
            else:
                new_status = rng.choice([s for s in ("todo", "in_progress", "completed") if s != status])
                self._call("patch", f"{task_id}/", token, status=new_status)
                self.tasks[task_id] = (assignee, new_status)
        return kind


def test_200_random_changes_reach_exactly_those_allowed_to_see_them(gateway, admin_session, register, assign_to,
                                                                     open_feed, task_tap, admin):
    ann, bob = register(), register()
    admin_token = admin_session.headers["Authorization"].split()[1]
    admin_feed, ann_feed, bob_feed = open_feed(admin_token), open_feed(ann.token), open_feed(bob.token)
    ann_notes = open_feed(ann.token, "/ws/notifications/")
    for feed, user in ((admin_feed, ann), (ann_feed, ann), (ann_notes, ann), (bob_feed, bob)):
        until_live(feed, lambda user=user: assign_to(user, title="warm-up"))

    changes = RandomChanges(gateway, admin_session, ann, bob)
    for _ in range(200):
        changes.step()
    wait_for(lambda: len(random_task_events(task_tap)) == 200, timeout=15, message="200 events on the broker")
    events = random_task_events(task_tap)
    measured = {e.task_id for e in events}
    wait_for(lambda: len(task_event_ids(admin_feed, measured)) == 200, timeout=15, message="all 200 at the admin")
    for user, feed in ((ann, ann_feed), (bob, bob_feed)):
        expected = {e.id for e in events if visible_to(user.id, e)}
        wait_for(lambda feed=feed, expected=expected: task_event_ids(feed, measured) >= expected, timeout=10,
                 message="the user's events")
        assert task_event_ids(feed, measured) == expected  # nothing it may not see
    assert ann_notes.of_type("task_update") == []

    wait_for(lambda: queue_backlog() == 0, timeout=30, message="notifications made")
    expected_notes = api_notification_ids(gateway, ann.token, measured)
    assert expected_notes  # admin changes to ann's tasks notified her
    wait_for(lambda: notification_ids(ann_feed, measured) == expected_notes, timeout=10, message="her notifications")
    wait_for(lambda: notification_ids(ann_notes, measured) == expected_notes, timeout=10, message="on both paths")
    assert all(m["notification"]["user"] == ann.id for m in ann_feed.of_type("notification"))
    assert all(m["notification"]["user"] == bob.id for m in bob_feed.of_type("notification"))
    assert notification_ids(admin_feed, measured) == set()
    message = admin_feed.of_type("task_update")[-1]
    assert set(message) == {"type", "action", "task", "event_id", "occurred_at", "cursor"}


def random_task_events(tap):
    return [e for e in tap.drain() if e.task["title"].startswith("random")]


def test_a_reassignment_reaches_both_users_live(admin_session, register, assign_to, open_feed, gateway):
    ann, bob = register(), register()
    ann_feed, bob_feed = open_feed(ann.token), open_feed(bob.token)
    until_live(bob_feed, lambda: assign_to(bob, title="warm-up"))
    until_live(ann_feed, lambda: assign_to(ann, title="warm-up"))
    task = assign_to(ann, title="moving")
    admin_session.patch(f"{gateway}/api/tasks/{task['id']}/", json={"assigned_user": bob.id}, timeout=5)
    for feed in (ann_feed, bob_feed):
        wait_for(lambda feed=feed: any(m["action"] == "task_updated" and m["task"]["id"] == task["id"]
                                       for m in feed.of_type("task_update")), message="the reassignment")


def test_pings_keep_an_idle_socket_alive(user, open_feed):
    feed = open_feed(user.token)
    wait_for(lambda: feed.pings >= 2, timeout=10, message="two pings (1 s apart in the test profile)")
    assert not feed.closed


@pytest.mark.parametrize("origin,allowed", [(PROFILE.gateway_url, True), ("http://evil.example", False)])
def test_origins_are_checked_against_the_allowlist(user, open_feed, origin, allowed):
    feed = open_feed(user.token, origin=origin)
    if allowed:
        wait_for(lambda: feed.pings >= 1, timeout=10, message="a ping on an allowed socket")
        assert not feed.closed
    else:
        wait_for(lambda: feed.closed, timeout=5, message="the socket closed")
        assert feed.close_code == 4403 and feed.messages == []


def test_a_user_past_the_limit_of_sockets_is_refused_with_4429_and_their_open_sockets_keep_working(
        user, open_feed, assign_to):
    env = STACK.process_env("ws_relay")
    limit = int(env.get("WS_MAX_SOCKETS_PER_USER") or RelaySettings.max_sockets_per_user)
    processes = int(env.get("WEB_CONCURRENCY") or gunicorn_conf.workers)  # the limit is per relay process
    opened = []
    for _ in range(limit * processes + 1):
        feed = open_feed(user.token)
        wait_for(lambda feed=feed: feed.messages or feed.closed, timeout=10, message="a hello or a close")
        if feed.closed:
            break
        opened.append(feed)
    assert feed.closed and feed.close_code == 4429 and feed.messages == []
    assert limit <= len(opened) <= limit * processes
    task = assign_to(user, title="to every open socket")
    for each in opened:
        wait_for(lambda each=each: any(m["task"]["id"] == task["id"] for m in each.of_type("task_update")),
                 timeout=10, message="the task on a socket opened before the refusal")
        assert not each.closed
    for each in opened:
        each.close()

    def opens():
        feed = open_feed(user.token)
        wait_for(lambda: feed.messages or feed.closed, timeout=10, message="a hello or a close")
        return feed.messages and feed.messages[0]["type"] == "hello"
    wait_for(opens, timeout=10, interval=0.2, message="a socket once the user's others were closed")


def test_the_gateway_turns_down_compression_offered_by_browsers(user, gateway):
    """A negotiated permessage-deflate keeps zlib state of ~100 KiB per socket in the relay."""
    ws = websocket.create_connection(ws_url(gateway, token=user.token), timeout=10,
                                     header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
                                     suppress_origin=True)
    try:
        assert "sec-websocket-extensions" not in ws.getheaders()
    finally:
        ws.close()


def publish_big_task_events(count, size):
    """Task events for nobody's task (admins see them), each about `size` bytes, straight onto the exchange."""
    actor = contracts.Actor(0, "e2e")
    amqp.publish(task_tap_url(), (contracts.task_created(
        {"id": 10_000_000 + number, "title": "big", "assigned_user": None, "description": "x" * size}, actor,
        source="/e2e") for number in range(count)))


def test_a_client_that_never_reads_is_dropped_while_others_keep_receiving(admin_session, open_feed, gateway):
    admin_token = admin_session.headers["Authorization"].split()[1]
    reader = open_feed(admin_token)
    until_live(reader, lambda: publish_big_task_events(1, 10))
    stalled = websocket.create_connection(ws_url(gateway, token=admin_token),
                                          sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    stalled.settimeout(1)

    def stalled_got_one():
        publish_big_task_events(1, 10)
        try:
            return stalled.recv()
        except websocket.WebSocketTimeoutException:
            return None
    wait_for(stalled_got_one, timeout=15, interval=0, message="the stalled client registered")
    stalled_socket = stalled.sock  # from here on nobody reads this socket
    # 400 events of 30 KB in batches of 20, each once the reader has the one before: the reader keeps
    # receiving at the pace it reads (a 12 MB burst at once could outrun a Python client on a busy
    # machine and drop it too), while the stalled client's backlog grows past every bound.
    def big_at_reader():
        return len([m for m in reader.of_type("task_update") if m["task"]["title"] == "big"])
    already = big_at_reader()  # the warm-up events are "big" too
    for batch in range(1, 21):
        publish_big_task_events(20, 30_000)
        wait_for(lambda wanted=already + 20 * batch: big_at_reader() >= wanted, timeout=30,
                 message=f"batch {batch} of 20 at the reading client")
    health = requests.get(f"{gateway}/healthz/ws", timeout=5)
    assert health.status_code == 200

    # Now read what the stalled client was sent: the relay gave up on it long before the end.
    stalled_socket.settimeout(10)
    received = b""
    while True:
        try:
            chunk = stalled_socket.recv(1 << 20)
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    assert received.count(b'"title":"big"') < 400
    stalled_socket.close()


def test_a_broker_restart_leaves_sockets_open_and_they_get_the_later_events(gateway, user, assign_to, open_feed):
    feed = open_feed(user.token)
    until_live(feed, lambda: assign_to(user, title="warm-up"))
    rabbitmq("stop")
    try:
        # The relay reads the feed stream from where it stopped once the broker is back: nothing is lost
        # to the open sockets, so they stay open; the relay reports the broken link meanwhile.
        wait_for(lambda: requests.get(f"{gateway}/healthz/ws", timeout=5).status_code == 503, timeout=10,
                 message="the relay reporting its lost feed")
        during = assign_to(user, title="during the restart")  # committed now, published once the broker is back
    finally:
        rabbitmq("start")
    wait_until_healthy()
    after = assign_to(user, title="after the restart")
    wait_for(lambda: {during["id"], after["id"]} <= {m["task"]["id"] for m in feed.of_type("task_update")},
             timeout=30, message="the changes made during and after the restart")
    assert not feed.closed
