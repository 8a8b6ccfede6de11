"""A stream consumer hands entries out before it acknowledges them, and grants the broker credit without stalling."""
from types import SimpleNamespace

from taskwire_common.messaging import MARK_TYPE
from ws_relay.stream import StreamConsumer


class FakeBroker:
    """A connection and its one channel as StreamConsumer uses them: deliveries within the window, acks recorded."""

    def __init__(self, offsets, per_poll=None):
        self.waiting = list(offsets)  # what the stream holds from the consumer's start on
        self.per_poll = per_poll  # deliveries per round of I/O at most: 1 is a trickle of events
        self.prefetch, self.tags, self.acks, self.on_delivery = 0, 0, [], None

    @property
    def outstanding(self):
        """Delivered and not acknowledged (an acknowledgement covers every tag up to its own)."""
        return self.tags - (self.acks[-1] if self.acks else 0)

    def channel(self):
        return self

    def basic_qos(self, prefetch_count):
        self.prefetch = prefetch_count

    def basic_consume(self, _queue, on_delivery, arguments):
        self.on_delivery = on_delivery

    def basic_ack(self, tag, multiple):
        assert multiple
        self.acks.append(tag)

    def process_data_events(self, time_limit):
        limit = self.tags + (self.per_poll or len(self.waiting))
        while self.waiting and self.outstanding < self.prefetch and self.tags < limit:
            offset = self.waiting.pop(0)
            self.tags += 1
            properties = SimpleNamespace(headers={"x-stream-offset": offset}, message_id=f"m{offset}", type=MARK_TYPE)
            self.on_delivery(self, SimpleNamespace(delivery_tag=self.tags), properties, b"")


def test_the_live_reader_hands_entries_out_unacknowledged_and_acknowledges_a_quarter_window_at_a_time():
    broker = FakeBroker(range(100), per_poll=1)  # events one at a time, as they are published
    consumer = StreamConsumer(broker, 0, prefetch=40)
    assert [entry.offset for entry in consumer.take(0.1)] == [0]
    assert broker.acks == []  # the acknowledgement never stands between an entry's arrival and its fan-out
    taken = [0]
    for _ in range(99):
        taken += [entry.offset for entry in consumer.take(0.1)]
    assert taken == list(range(100))
    assert broker.acks == [10, 20, 30, 40, 50, 60, 70, 80, 90]  # a quarter of the window each, not one per event


def test_the_live_reader_never_stalls_when_its_window_fills():
    broker = FakeBroker(range(1000))
    consumer = StreamConsumer(broker, 0, prefetch=8)
    taken = []
    for _ in range(200):
        taken += [entry.offset for entry in consumer.take(0.1)]
    assert taken == list(range(1000))


def test_a_bounded_read_acknowledges_everything_up_to_its_limit_so_gaps_in_offsets_never_stall_it():
    offsets = [*range(0, 10), *range(20, 120)]  # a gap, as RabbitMQ's own entries leave
    broker = FakeBroker(offsets)
    consumer = StreamConsumer(broker, 0, prefetch=10, ack_through=109)
    taken = []
    for _ in range(30):
        taken += [entry.offset for entry in consumer.take(0.1)]
    assert taken == offsets[:len(taken)] and taken[-1] >= 109
