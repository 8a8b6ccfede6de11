"""Resuming a socket from its cursor: the history, cursors, and the replay up to the seam with the live fan-out.

The stream is faked here (a list of entries); tests/integration/ws_relay reads a real one.
"""
import json
import threading

import pytest

from taskwire_common.contracts import Actor, notification_created, task_updated
from taskwire_common.messaging import MARK_TYPE
from ws_relay.history import Cursor, History
from ws_relay.hub import Connection, Hub
from ws_relay.replay import CursorGone, ReaderSlots, Replay
from ws_relay.stream import entry_of

from .test_ws_routing import Properties, principal, read_frame, received


def event_entry(offset, assignee=2, user=None):
    if user is not None:
        event = notification_created({"id": offset, "user": user, "message": "hi"})
    else:
        event = task_updated({"id": offset, "title": "x", "assigned_user": assignee}, {}, Actor(1, "admin"))
    return entry_of(offset, Properties(event["id"]), json.dumps(event).encode())


def mark(offset):
    return entry_of(offset, Properties(f"mark-{offset}", MARK_TYPE), b"")


class FakeStream:
    """Stands in for StreamReader: delivers the stream's entries from an offset, in batches, like RabbitMQ does."""

    def __init__(self, entries, batch=3, chunk_start=None):
        self.entries, self.batch, self.chunk_start = entries, batch, chunk_start
        self.opened, self.closed = [], 0

    def open(self, offset, through):
        # RabbitMQ may start at the beginning of the chunk that holds the offset.
        start = self.chunk_start if self.chunk_start is not None and self.chunk_start <= offset else offset
        pending = [e for e in self.entries if start <= e.offset <= through]
        self.opened.append(offset)
        stream = self

        class Reader:
            def __init__(self):
                self.through = through

            def take(self, _seconds):
                taken, pending[:] = pending[:stream.batch], pending[stream.batch:]
                return taken

            def close(self):
                stream.closed += 1
        return Reader()


def hub_with(entries, size=100):
    hub = Hub(size)
    for entry in entries:
        hub.publish(entry)
    hub.mark_ready()
    return hub


def replay_all(replay, limit=10):
    frames = []
    while batch := replay.step(limit):
        frames.extend(batch)
    return [read_frame(frame) for frame in frames]


def resume(hub, stream, cursor, user_id=2, role="user", tasks=True):
    connection = Connection(principal(user_id, role), tasks, 10)
    hub.add(connection)
    return connection, Replay(hub, connection, cursor, stream.open, ReaderSlots(1))


def test_a_cursor_is_opaque_text_that_names_one_entry_and_anything_else_is_refused():
    cursor = Cursor.of(42, "0b7f…")
    assert Cursor.parse(str(cursor)) == cursor and str(cursor).startswith("42.")
    for garbage in (None, "", "42", "42.", "-1.0011aabb", "42.0011AABB", "42.0011aabb.1", "1" * 19 + ".0011aabb",
                    "42.0011aab", " 42.0011aabb"):
        assert Cursor.parse(garbage) is None, garbage


def test_the_history_keeps_the_newest_entries_in_order_and_serves_what_follows_an_offset():
    history = History(capacity=8)
    for offset in range(20):
        history.append(mark(offset))
    assert 8 <= len(history) <= 9 and history.tail == mark(19).cursor
    first = history.first_offset
    assert [e.offset for e in history.after(first, 3)] == [first + 1, first + 2, first + 3]
    assert history.holds(mark(15).cursor) and not history.holds(Cursor(15, "00000000"))
    assert not history.holds(mark(2).cursor)
    with pytest.raises(ValueError):
        history.append(mark(19))


def test_a_resumed_socket_gets_what_its_user_may_see_in_order_then_goes_live_with_no_gap_and_no_duplicate():
    hub = hub_with([mark(0), event_entry(1), event_entry(2, assignee=3), event_entry(3), event_entry(4, user=2),
                    event_entry(5, user=3)])
    connection, replay = resume(hub, FakeStream([]), hub.history.after(-1, 1)[0].cursor)
    assert [(m["type"], m["cursor"].split(".")[0]) for m in replay_all(replay)] == [
        ("task_update", "1"), ("task_update", "3"), ("notification", "4")]
    assert connection.live
    hub.publish(event_entry(6))
    hub.publish(event_entry(7, assignee=3))
    assert [m["cursor"].split(".")[0] for m in received(connection)] == ["6"]


def test_the_seam_holds_when_entries_arrive_between_replay_steps():
    hub = hub_with([mark(0), *[event_entry(offset) for offset in range(1, 25)]])
    connection, replay = resume(hub, FakeStream([]), mark(0).cursor)
    seen = [read_frame(frame) for frame in replay.step(10)]
    hub.publish(event_entry(25))  # published while the socket is still replaying: it must come once, by replay
    seen += replay_all(replay)
    hub.publish(event_entry(26))
    seen += received(connection)
    assert [int(m["cursor"].split(".")[0]) for m in seen] == list(range(1, 27))


def test_an_admin_replays_every_task_event_and_a_notifications_socket_only_its_notifications():
    entries = [mark(0), event_entry(1, assignee=3), event_entry(2, user=1), event_entry(3, user=2)]
    hub = hub_with(entries)
    _, admin = resume(hub, FakeStream([]), mark(0).cursor, user_id=1, role="admin")
    assert [m["type"] for m in replay_all(admin)] == ["task_update", "notification"]
    _, notes = resume(hub, FakeStream([]), mark(0).cursor, user_id=2, tasks=False)
    assert [m["notification"]["user"] for m in replay_all(notes)] == [2]


def test_a_cursor_this_feed_never_had_is_refused_at_once():
    hub = hub_with([mark(10), event_entry(11)])
    for foreign in (Cursor(11, "00000000"), Cursor(12, mark(12).cursor.fingerprint), Cursor(10**12, "00000000")):
        with pytest.raises(CursorGone):
            resume(hub, FakeStream([]), foreign)


def test_a_cursor_older_than_the_history_is_read_from_the_stream_then_from_memory():
    stream_entries = [mark(0), *[event_entry(offset) for offset in range(1, 40)]]
    hub = hub_with(stream_entries, size=8)  # keeps 8 or 9 of them
    stream = FakeStream(stream_entries, chunk_start=3)
    connection, replay = resume(hub, stream, stream_entries[5].cursor)
    assert [int(m["cursor"].split(".")[0]) for m in replay_all(replay)] == list(range(6, 40))
    assert connection.live and stream.opened == [5] and stream.closed == 1


def test_a_cursor_the_stream_no_longer_holds_or_never_held_gives_resync():
    stream_entries = [*[event_entry(offset) for offset in range(20, 40)]]  # retention removed 0..19
    hub = hub_with(stream_entries, size=8)
    _, replay = resume(hub, FakeStream(stream_entries), event_entry(5).cursor)
    with pytest.raises(CursorGone, match="retention"):
        replay_all(replay)
    _, replay = resume(hub, FakeStream(stream_entries), Cursor(25, "00000000"))
    with pytest.raises(CursorGone, match="another entry"):
        replay_all(replay)


def reading_the_stream(readers):
    """User 2's socket, resuming from a cursor older than the history, part way through reading the stream."""
    stream_entries = [mark(0), *[event_entry(offset) for offset in range(1, 40)]]
    hub = hub_with(stream_entries, size=8)
    replay = Replay(hub, Connection(principal(2), True, 10), mark(0).cursor, FakeStream(stream_entries).open, readers)
    replay.step(10)
    return replay


def test_stream_reads_are_limited_per_process_and_give_their_slot_back():
    readers = ReaderSlots(1)
    first = reading_the_stream(readers)
    assert not readers.acquire(3, blocking=False)  # the one slot is taken while the first socket reads the stream
    replay_all(first)
    assert readers.acquire(3, blocking=False)


def test_a_user_reads_the_stream_for_one_socket_at_a_time_and_leaves_the_other_slots_to_others():
    readers = ReaderSlots(3)
    first = reading_the_stream(readers)
    assert not readers.acquire(2, blocking=False)  # the same user's second old-cursor resume waits for the first
    assert readers.acquire(3, blocking=False) and readers.acquire(4, blocking=False)  # two other users read
    assert not readers.acquire(5, blocking=False)  # the three slots are taken
    assert not readers.acquire(5, blocking=False)  # a refused try leaves nothing behind for its user
    readers.release(4)
    assert readers.acquire(5, blocking=False)
    replay_all(first)
    assert readers.acquire(2, blocking=False)


def test_a_users_second_stream_read_goes_ahead_once_the_first_is_done():
    readers = ReaderSlots(2)
    assert readers.acquire(2)
    second = threading.Thread(target=readers.acquire, args=(2,))
    second.start()
    assert readers.acquire(3, blocking=False), "the user's waiting read holds no slot"
    readers.release(2)
    second.join(timeout=5)
    assert not second.is_alive()
    assert not readers.acquire(4, blocking=False)  # user 2's second read and user 3's hold both slots


def test_a_socket_joins_the_live_fan_out_only_at_the_tail():
    """Replay's last step and a new entry can interleave; joining behind the tail would skip that entry."""
    hub = hub_with([mark(0), event_entry(1)])
    connection = Connection(principal(2), True, 10)
    hub.add(connection)
    assert not hub.join_after(connection, 0) and not connection.live
    assert hub.join_after(connection, 1) and connection.live


def test_gaps_in_the_streams_offsets_are_not_taken_for_lost_entries():
    """RabbitMQ keeps entries of its own in a stream (one per segment, say), which take an offset and are never
    delivered: after a gap the replay goes on, and a cursor on either side of one is served."""
    offsets = [offset for offset in range(60) if offset % 7 != 6]
    stream_entries = [event_entry(offset) for offset in offsets]
    hub = hub_with(stream_entries, size=8)
    for start in (stream_entries[4], stream_entries[5], stream_entries[30]):  # just before a gap, just after one
        connection, replay = resume(hub, FakeStream(stream_entries, batch=4), start.cursor)
        shown = [int(m["cursor"].split(".")[0]) for m in replay_all(replay)]
        assert shown == [offset for offset in offsets if offset > start.offset] and connection.live


def test_an_event_published_twice_reaches_a_socket_once_live_and_replayed():
    event = task_updated({"id": 1, "title": "x", "assigned_user": 2}, {}, Actor(1, "admin"))
    body = json.dumps(event).encode()
    first, again = entry_of(1, Properties(event["id"]), body), entry_of(2, Properties(event["id"]), body)
    hub = hub_with([mark(0)])
    live = Connection(principal(2), True, 10)
    hub.add(live)
    hub.join_at_tail(live, lambda tail: [])
    assert hub.publish(first) == 1 and hub.publish(again) == 0
    assert [m["event_id"] for m in received(live)] == [event["id"]]
    _, replay = resume(hub, FakeStream([]), mark(0).cursor)
    assert [m["event_id"] for m in replay_all(replay)] == [event["id"]]


def test_a_quiet_socket_is_sent_the_tails_cursor_once_the_feed_moved_far_enough():
    hub = hub_with([mark(0)])
    bob = Connection(principal(3), True, 10)
    hub.add(bob)
    hub.join_at_tail(bob, lambda tail: [])
    for offset in range(1, 6):
        hub.publish(event_entry(offset, assignee=2))  # ann's: bob sees none of them
    assert hub.checkpoint(bob, behind=6) is None and received(bob) == []
    assert hub.checkpoint(bob, behind=5) == hub.tail
    assert received(bob) == [{"type": "cursor", "cursor": str(hub.tail)}]
    assert hub.checkpoint(bob, behind=1) is None, "nothing new since"
    hub.publish(event_entry(6, assignee=3))
    hub.publish(event_entry(7, assignee=2))
    assert hub.checkpoint(bob, behind=2) is None, "what it was sent last counts, not the checkpoint before it"
    assert [m["type"] for m in received(bob)] == ["task_update"]


def test_a_copy_is_hidden_even_after_its_first_left_the_history():
    """The outbox appends its last events again after a reconnection: their first copies may be older than
    the history, not than the event ids it remembers."""
    event = task_updated({"id": 1, "title": "x", "assigned_user": 2}, {}, Actor(1, "admin"))
    body = json.dumps(event).encode()
    hub = hub_with([entry_of(0, Properties(event["id"]), body), *[mark(offset) for offset in range(1, 40)]], size=8)
    assert not hub.holds(Cursor.of(0, event["id"]))
    assert hub.publish(entry_of(40, Properties(event["id"]), body)) == 0
    assert hub.history.after(39, 1)[0].frame is None
    stream = [*[mark(o) for o in range(0, 10)], entry_of(10, Properties(event["id"]), body),
              *[mark(o) for o in range(11, 20)], entry_of(20, Properties(event["id"]), body),
              *[mark(o) for o in range(21, 60)]]
    _, replay = resume(hub_with(stream, size=8), FakeStream(stream), stream[0].cursor)
    replayed = [m["event_id"] for m in replay_all(replay) if "event_id" in m]
    assert replayed == [event["id"]], "read from the stream, the copy is hidden too"


def test_a_replay_from_the_stream_that_starts_after_an_events_first_copy_hides_its_second():
    """As after a broker restart: the cursor names the event's first copy, the outbox appended it again later,
    and the history no longer holds either; the relay remembers where it first read it."""
    event = task_updated({"id": 1, "title": "x", "assigned_user": 2}, {}, Actor(1, "admin"))
    body = json.dumps(event).encode()
    stream = [mark(0), entry_of(1, Properties(event["id"]), body), *[mark(o) for o in range(2, 20)],
              entry_of(20, Properties(event["id"]), body), event_entry(21), *[mark(o) for o in range(22, 60)]]
    hub = hub_with(stream, size=8)
    _, replay = resume(hub, FakeStream(stream), stream[1].cursor)
    assert [int(m["cursor"].split(".")[0]) for m in replay_all(replay)] == [21]
