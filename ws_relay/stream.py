"""Reading the feed stream: consumers from an offset, marks, and the entries made of what they deliver.

A stream consumer over AMQP 0-9-1 needs a prefetch and acknowledgements (they only grant
credit: nothing is taken from the stream), and names where to start in the `x-stream-offset`
argument; every delivery carries its offset in the `x-stream-offset` header. RabbitMQ may
start a consumer at the beginning of the chunk holding the offset asked for, so readers skip
what comes before it.
"""
from __future__ import annotations

import logging
import uuid
import zlib

import pika
import pika.exceptions
from pika.spec import Basic, BasicProperties

from broker.topology import FEED_STREAM
from taskwire_common.contracts import MalformedEvent, checked_envelope, parse_event
from taskwire_common.messaging import MARK_TYPE, connect

from .history import Cursor, Entry
from .routing import audience_of, client_message, shown_event
from .wire import text_frame

log = logging.getLogger(__name__)

PREFETCH = 1000
SETTLE_SECONDS = 0.05


def entry_of(offset: int, properties: BasicProperties, body: bytes) -> Entry:
    """The entry for one delivery: its cursor, and the frame and audience of an event clients are shown."""
    cursor = Cursor.of(offset, properties.message_id or f"crc32:{zlib.crc32(body)}")
    if properties.type == MARK_TYPE:
        return Entry(cursor)
    try:
        shown = shown_event(checked_envelope(parse_event(body)))
        if shown is None:
            return Entry(cursor)
        return Entry(cursor, audience_of(shown), text_frame(client_message(shown, str(cursor))), shown.id)
    except (MalformedEvent, KeyError, TypeError, AttributeError, ValueError) as error:
        log.error("the feed holds a malformed event at offset %s (%s): %r", offset, error, body[:200])
        return Entry(cursor)


def publish_mark(connection: pika.BlockingConnection) -> str:
    """Append a mark to the stream, confirmed, and return the fingerprint its cursor will have: a reader that has
    read it has read everything published before it."""
    mark_id = str(uuid.uuid4())
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(exchange="", routing_key=FEED_STREAM, body=b"",
                          properties=pika.BasicProperties(type=MARK_TYPE, message_id=mark_id,
                                                          delivery_mode=pika.DeliveryMode.Persistent))
    channel.close()
    return Cursor.of(0, mark_id).fingerprint


class StreamConsumer:
    """One consumer of the feed stream on a connection, starting at `start` (an offset, "first", "last" or "next").

    Deliveries wait in a list until taken (`take`). What was taken is acknowledged at the next
    `take`, before it waits, which grants the broker credit for as many more, up to `prefetch`
    unacknowledged: an acknowledgement is a round of pika's I/O, and made between an entry's
    arrival and its fan-out it delayed every event. The live reader acknowledges a quarter of its
    window at a time (acknowledging each event was a quarter of the relay's CPU at 100 events a
    second); a bounded read (`ack_through`) acknowledges all it took up to that offset, and nothing
    past it, so that the entries up to its end come even where the stream's offsets have gaps.
    """

    def __init__(self, connection: pika.BlockingConnection, start: int | str, prefetch: int = PREFETCH,
                 ack_through: int | None = None):
        self.connection = connection
        self.prefetch, self.ack_through = prefetch, ack_through
        self.outstanding = 0  # delivered and not acknowledged: the broker sends more only while below prefetch
        self.channel = connection.channel()
        self.channel.basic_qos(prefetch_count=prefetch)
        self.arrived: list[tuple[int, int, BasicProperties, bytes]] = []
        self._unacked = 0  # taken (up to ack_through) and not acknowledged yet
        self._ack_tag = 0
        self._ack_every = 1 if ack_through is not None else max(1, prefetch // 4)
        self.channel.basic_consume(FEED_STREAM, self._on_delivery, arguments={"x-stream-offset": start})

    def _on_delivery(self, _channel, method: Basic.Deliver, properties: BasicProperties, body: bytes) -> None:
        offset = (properties.headers or {})["x-stream-offset"]
        assert isinstance(offset, int), f"a stream delivery's offset is an integer, not {offset!r}"
        self.arrived.append((offset, method.delivery_tag or 0, properties, body))
        self.outstanding += 1

    def take(self, seconds: float) -> list[Entry]:
        """The entries delivered within `seconds` (returns as soon as some arrived), oldest first."""
        if self._unacked >= self._ack_every:
            self.channel.basic_ack(self._ack_tag, multiple=True)
            self.outstanding -= self._unacked
            self._unacked = 0
        if not self.arrived:
            self.connection.process_data_events(time_limit=seconds)
        arrived, self.arrived = self.arrived, []
        for offset, tag, _properties, _body in arrived:
            if self.ack_through is None or offset <= self.ack_through:
                self._ack_tag, self._unacked = tag, self._unacked + 1
        return [entry_of(offset, properties, body) for offset, _tag, properties, body in arrived]


class StreamReader:
    """Reads the stream from `start` through offset `through` on a connection of its own, and no further.

    It acknowledges only what makes the broker send the entries up to `through`, so once those
    have arrived the consumer's window is full and nothing is in flight: closing then cancels it
    cleanly. (pika rejects what is delivered during a cancel, and a stream answers a reject by
    closing the connection with an error.) Without `through` it reads one entry: a probe.
    """

    def __init__(self, amqp_url: str, start: int | str, through: int | None = None):
        self.through = through
        if through is None or not isinstance(start, int):
            prefetch, ack_through = 1, -1
        else:
            prefetch = max(1, min(PREFETCH, through - start + 1))
            ack_through = through - prefetch
        self.connection = connect(amqp_url)
        try:
            self.consumer = StreamConsumer(self.connection, start, prefetch, ack_through)
        except BaseException:
            self.close()
            raise

    def take(self, seconds: float) -> list[Entry]:
        return self.consumer.take(seconds)

    def close(self) -> None:
        try:
            if self.connection.is_open:
                self._settle()
                self.connection.close()
        except pika.exceptions.AMQPError as error:
            log.warning("a stream reader closed with %s", error)

    def _settle(self) -> None:
        """Before a cancel: let what is in flight arrive, acknowledging nothing, until the window is full or
        the stream is quiet (a reader given up early, or a probe past the stream's end)."""
        consumer = self.consumer
        while consumer.outstanding < consumer.prefetch:
            before = consumer.outstanding
            self.connection.process_data_events(time_limit=SETTLE_SECONDS)
            if consumer.outstanding == before:
                return
