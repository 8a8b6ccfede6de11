"""The relay's reader of the feed stream and its replays, on the real broker: history, resume, retention, breaks."""
import json

import pika
import pytest

from broker import topology
from taskwire_common import contracts
from taskwire_common.messaging import connection_parameters
from tests.support import wait_for
from ws_relay.feed import FeedReader
from ws_relay.history import Cursor
from ws_relay.hub import SERVICE_RESTART, Connection, Hub
from ws_relay.replay import CursorGone, ReaderSlots, Replay
from ws_relay.stream import StreamReader

from ..unit.test_ws_routing import principal, read_frame, received

ADMIN = contracts.Actor(1, "admin")
# Small segments, so that retention removes something after a few hundred kilobytes.
SMALL = topology.FeedRetention(max_age="1h", max_bytes=200_000, segment_bytes=20_000)


@pytest.fixture
def amqp_url(it_env):
    """The integration vhost with no feed stream in it: each test makes its own."""
    connection = pika.BlockingConnection(connection_parameters(it_env["AMQP_URL"]))
    connection.channel().queue_delete(topology.FEED_STREAM)
    connection.close()
    return it_env["AMQP_URL"]


@pytest.fixture
def publish(amqp_url):
    """Publish task events to the exchange, confirmed; returns their ids."""
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    channel = connection.channel()
    topology.declare(channel)
    topology.declare_feed(connection, SMALL)  # as the relay does; published events are kept from now on
    channel.confirm_delivery()

    def send(count, assignee=2, pad=0):
        ids = []
        for number in range(count):
            event = contracts.task_updated({"id": number, "title": "x" * pad, "assigned_user": assignee}, {}, ADMIN)
            channel.basic_publish(topology.EXCHANGE, event["type"], json.dumps(event),
                                  pika.BasicProperties(delivery_mode=2, message_id=event["id"]))
            ids.append(event["id"])
        return ids
    yield send
    connection.close()


@pytest.fixture
def start_reader(amqp_url):
    readers = []

    def start(hub, retention=SMALL):
        reader = FeedReader(hub, amqp_url, topology, retention)
        reader.start()
        readers.append(reader)
        wait_for(lambda: hub.ready and reader.reading, timeout=15, message="the reader ready")
        return reader
    yield start
    for reader in readers:
        reader.stop()


def live_connection(hub, user_id=2, role="user"):
    connection = Connection(principal(user_id, role), True, 1000)
    hub.add(connection)
    assert hub.join_at_tail(connection, lambda tail: [])
    return connection


def replayed(hub, cursor, amqp_url, user_id=2):
    connection = Connection(principal(user_id), True, 1000)
    hub.add(connection)
    replay = Replay(hub, connection, cursor, lambda start, through: StreamReader(amqp_url, start, through),
                    ReaderSlots(1))
    frames = []
    try:
        while batch := replay.step(100):
            frames.extend(read_frame(frame) for frame in batch)
    finally:
        replay.close()
    return frames, connection


def test_a_reader_loads_the_streams_newest_entries_then_fans_out_live_with_stream_offsets(start_reader, publish):
    publish(30)
    hub = Hub(10)
    start_reader(hub)
    assert 10 <= len(hub.history) <= 11, "the newest entries, up to the history's size"
    ann = live_connection(hub)
    [event_id] = publish(1)
    wait_for(lambda: ann.pending, message="the live event")
    [message] = received(ann)
    assert message["event_id"] == event_id and message["cursor"] == str(hub.tail)


def test_a_cursor_older_than_the_history_is_replayed_from_the_stream_without_gap_or_duplicate(
        start_reader, publish, amqp_url):
    hub = Hub(10)
    start_reader(hub)
    start = hub.tail
    ids = publish(20, assignee=2) + publish(20, assignee=3) + publish(20, assignee=2)
    wait_for(lambda: hub.tail.offset >= start.offset + 60, message="the reader to read the 60 events")
    assert not hub.holds(start)
    frames, connection = replayed(hub, start, amqp_url)
    assert [m["event_id"] for m in frames] == ids[:20] + ids[40:]
    assert connection.live
    [late] = publish(1)
    wait_for(lambda: connection.pending, message="the live event after the replay")
    assert [m["event_id"] for m in received(connection)] == [late]
    with pytest.raises(CursorGone, match="another entry"):
        replayed(hub, Cursor(start.offset + 1, "00000000"), amqp_url)


def test_a_cursor_retention_removed_or_the_stream_never_held_cannot_be_replayed(start_reader, publish, amqp_url):
    hub = Hub(10)
    start_reader(hub)
    old = hub.tail
    publish(60, pad=10_000)  # 600 kB through a stream that keeps 200 kB
    wait_for(lambda: hub.tail.offset >= old.offset + 60, message="the reader to read the padded events")
    with pytest.raises(CursorGone, match="retention"):
        replayed(hub, old, amqp_url)


def test_a_reader_continues_from_its_last_entry_and_the_sockets_stay_open(start_reader, publish):
    hub = Hub(100)
    first = start_reader(hub)
    ann = live_connection(hub)
    first.stop()  # as a lost broker connection does: the history stays, the sockets stay
    wait_for(lambda: not first.reading, message="the first reader stopped")
    missed = publish(3)
    start_reader(hub)
    wait_for(lambda: len(ann.pending) == 3, message="the events published while no reader ran")
    assert [m["event_id"] for m in received(ann)] == missed and ann.close_code is None


def test_a_stream_that_no_longer_continues_the_history_resets_it_and_closes_the_sockets(
        start_reader, publish, amqp_url):
    hub = Hub(100)
    first = start_reader(hub)
    publish(5)
    wait_for(lambda: hub.tail.offset >= 5, message="five events read")
    ann = live_connection(hub)
    first.stop()
    wait_for(lambda: not first.reading, message="the first reader stopped")
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    connection.channel().queue_delete(topology.FEED_STREAM)  # a new stream: its offsets name other events
    connection.close()
    reader = FeedReader(hub, amqp_url, topology, SMALL)
    reader.start()
    try:
        # The new stream does not deliver the entry the history ends with within DELIVERY_WAIT_SECONDS.
        wait_for(lambda: ann.close_code == SERVICE_RESTART, timeout=20, message="the sockets closed")
        wait_for(lambda: hub.ready, timeout=15, message="the history read again")
        assert hub.tail.offset < 5, "the history was read again from the new stream"
    finally:
        reader.stop()


def test_a_stream_declared_with_other_retention_is_kept_as_it_is(amqp_url, start_reader):
    start_reader(Hub(10), retention=topology.FeedRetention(max_age="2h"))
    start_reader(Hub(10), retention=SMALL)  # a relay configured otherwise starts all the same
