"""RabbitMQ plumbing shared by publishers and consumers: connection parameters, back-off, confirmed publishing."""
from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from .confirms import BatchConfirms
from .contracts import CONTENT_TYPE, Event
from .settings import broker_urls

log = logging.getLogger(__name__)


class Topology(Protocol):
    """The exchange events go through, and what to declare on a channel before using it.

    The shared package names no exchange or queue of its own: each process passes the topology
    it runs with. A module defining EXCHANGE and declare(channel), as broker.topology does, is one.
    """

    EXCHANGE: str
    # The stream that keeps the events of FEED_ROUTING_KEYS (topic patterns of the form "word.*") for replay.
    FEED_STREAM: str
    FEED_ROUTING_KEYS: tuple[str, ...]

    def declare(self, channel: Any) -> None: ...


# The type of marks: messages put in the feed stream that carry nothing and are shown to nobody. The relay
# appends them to learn where the stream ends; publishers, to learn that it takes writes (check_feed).
MARK_TYPE = "taskwire.feed.mark"
FEED_CHECK_SECONDS = 10.0


class FeedNotWritable(pika.exceptions.AMQPError):
    """The feed stream did not give back a mark appended to it: it does not take writes yet."""


def in_feed(topology: Topology, routing_key: str) -> bool:
    """Whether the feed stream keeps events of this routing key."""
    return any(routing_key.startswith(pattern.removesuffix("*")) for pattern in topology.FEED_ROUTING_KEYS)


def connection_parameters(amqp_url: str, heartbeat: int = 30) -> list[pika.URLParameters]:
    """Parameters for every node of `amqp_url` (settings.broker_urls), in order. `connect` tries them in turn;
    every client reconnects through it after a lost connection, so it fails over to a surviving node of a
    cluster."""
    nodes = []
    for url in broker_urls(amqp_url):
        parameters = pika.URLParameters(url)
        parameters.heartbeat = heartbeat
        parameters.blocked_connection_timeout = 30
        parameters.connection_attempts = 1
        parameters.socket_timeout = 5
        nodes.append(parameters)
    return nodes


def connect(amqp_url: str, heartbeat: int = 30) -> pika.BlockingConnection:
    """A connection to the first node of `amqp_url` that answers, trying them in order.

    Not one BlockingConnection given every node's parameters: pika then gives up at the first name that
    does not resolve (socket.gaierror), without trying the next. In containers a dead node's name stops
    resolving, so the clients never reached the surviving nodes (seen with docker-compose.cluster.yml).
    """
    error: Exception | None = None
    for parameters in connection_parameters(amqp_url, heartbeat):
        try:
            return pika.BlockingConnection(parameters)
        except (pika.exceptions.AMQPConnectionError, OSError) as exc:
            log.warning("RabbitMQ at %s:%s did not answer (%s: %s)", parameters.host, parameters.port,
                        type(exc).__name__, exc)
            error = exc
    assert error is not None  # broker_urls never returns an empty list
    raise error


class Backoff:
    """Exponential back-off with jitter between reconnection attempts, interruptible by a stop event."""

    def __init__(self, first: float = 0.2, cap: float = 5.0) -> None:
        self.first, self.cap = first, cap
        self.delay = first

    def reset(self) -> None:
        self.delay = self.first

    def next_delay(self) -> float:
        delay = self.delay * random.uniform(0.8, 1.2)
        self.delay = min(self.delay * 2, self.cap)
        return delay

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.next_delay())


def run_reconnecting(serve: Callable[[Backoff], None], stop: threading.Event, errors: tuple[type[Exception], ...],
                     name: str, on_error: Callable[[Exception], None] | None = None) -> None:
    """Call serve(backoff) until stopped; after one of `errors`, report it and retry with back-off.

    serve opens its connections, resets the back-off once they work, and returns when stopped.
    """
    backoff = Backoff()
    while not stop.is_set():
        try:
            serve(backoff)
        except errors as exc:
            if on_error:
                on_error(exc)
            log.warning("%s interrupted (%s: %s); reconnecting", name, type(exc).__name__, exc)
            backoff.wait(stop)


def follow_exclusive_queue(amqp_url: str, topology: Topology, routing_keys: Iterable[str], stop: threading.Event,
                           on_message: Callable[[bytes], None], on_bound: Callable[[], None]) -> None:
    """A live feed for one process: a server-named exclusive queue bound to `routing_keys` on the topology's exchange.

    on_bound() runs once the queue is bound (load a snapshot there: nothing published from
    then on is missed); then every message body goes to on_message(body) until `stop` is set.
    The queue dies with the connection; the caller reconnects (run_reconnecting) and re-binds.
    """
    connection = connect(amqp_url)
    try:
        channel = connection.channel()
        topology.declare(channel)
        queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
        for routing_key in routing_keys:
            channel.queue_bind(queue=queue, exchange=topology.EXCHANGE, routing_key=routing_key)
        on_bound()
        for method, _properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=1):
            if stop.is_set():
                break
            if method is not None and body is not None:  # all None after a second without messages
                on_message(body)
    finally:
        if connection.is_open:
            connection.close()


class ConfirmingPublisher:
    """One long-lived connection that publishes persistent events, in batches the broker vouches for.

    The channel is in confirm mode: `publish_batch` and `append_to_feed` write the whole batch, then
    wait for the broker's confirms of all of it together (confirms.BatchConfirms), so a batch costs
    one round trip, not one per message. They return once every message is confirmed: each is then
    in every queue and stream it was routed to, on a quorum of their members. A nack, a timeout or a
    lost connection raises a pika exception; the caller reconnects and publishes the batch again, and
    what had already arrived arrives twice, which every consumer drops by event id.
    """

    def __init__(self, amqp_url: str, topology: Topology):
        self.amqp_url = amqp_url
        self.topology = topology
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._confirms: BatchConfirms | None = None

    @property
    def is_open(self) -> bool:
        return self._connection is not None and self._connection.is_open

    def connect(self) -> None:
        self.close()
        self._connection = connect(self.amqp_url)
        channel = self._channel = self._connection.channel()
        self.topology.declare(channel)
        self._confirms = BatchConfirms(self._connection, channel)
        log.info("publisher connected to RabbitMQ")

    def check_feed(self) -> None:
        """Return once the feed stream takes writes: a mark appended to it came back to a consumer.

        Right after the broker starts, RabbitMQ 3.10 confirms what is routed to a stream whose writer is
        not running yet, and drops it (measured: all 50 events an outbox published 20 ms after the stream
        coordinator came up were missing from the stream, though the quorum queues had them). So a
        publisher checks the stream once per connection before it publishes. Raises FeedNotWritable.

        The consumer takes one delivery at a time and acknowledges all but the mark, so when the mark
        arrives nothing else is in flight and the consumer can be cancelled cleanly (a stream answers
        the reject pika sends for a delivery in flight at cancel by closing the connection).
        """
        if self._connection is None:
            raise pika.exceptions.ConnectionWrongStateError("the publisher is not connected")
        channel = self._connection.channel()
        mark = str(uuid.uuid4())
        seen: list[tuple[int, str | None]] = []  # (delivery tag, message id)
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(self.topology.FEED_STREAM, lambda _ch, method, properties, _body: seen.append(
            (method.delivery_tag or 0, properties.message_id)), arguments={"x-stream-offset": "next"})
        channel.basic_publish(exchange="", routing_key=self.topology.FEED_STREAM, body=b"",
                              properties=pika.BasicProperties(type=MARK_TYPE, message_id=mark,
                                                              delivery_mode=pika.DeliveryMode.Persistent))
        started = time.monotonic()
        skipped = 0
        while not any(message_id == mark for _tag, message_id in seen):
            if time.monotonic() - started > FEED_CHECK_SECONDS:
                raise FeedNotWritable(f"the feed stream did not give back a mark within {FEED_CHECK_SECONDS:.0f} s "
                                      f"({skipped} other entries came first)")
            if seen:
                # Someone else's entry: take the next one. `multiple`, though it is the one unacknowledged: RabbitMQ
                # 3.10 sends a stream consumer its next entry about 90 ms after a single acknowledgement, at once
                # after a multiple one (measured: 100 entries in 9.3 s against 0.04 s). The check had taken 9 s
                # behind another publisher's re-appended events, holding back every event of this outbox.
                channel.basic_ack(seen.pop()[0], multiple=True)
                skipped += 1
            self._connection.process_data_events(time_limit=0.1)
        channel.close()
        log.info("the feed stream takes writes: a mark came back after %.2f s (%d other entries first)",
                 time.monotonic() - started, skipped)

    def publish(self, routing_key: str, event: Event) -> None:
        self.publish_batch([(routing_key, event)])

    def publish_batch(self, events: list[tuple[str, Event]]) -> None:
        """Publish (routing key, event) pairs in this order; returns once the broker has confirmed them all."""
        self._publish_confirmed([(self.topology.EXCHANGE, routing_key, event) for routing_key, event in events])

    def append_to_feed(self, events: list[Event]) -> None:
        """Publish events straight into the topology's feed stream (the default exchange routes to a queue by
        its name), confirmed as a batch; nothing else receives them."""
        self._publish_confirmed([("", self.topology.FEED_STREAM, event) for event in events])

    def _publish_confirmed(self, messages: list[tuple[str, str, Event]]) -> None:
        """Publish (exchange, routing key, event) in this order, then wait for the broker's confirms of them all."""
        if self._channel is None or self._confirms is None:
            raise pika.exceptions.ChannelWrongStateError("the publisher is not connected")
        for exchange, routing_key, event in messages:
            self._confirms.publishing()
            self._channel.basic_publish(
                exchange=exchange,
                routing_key=routing_key,
                body=json.dumps(event, separators=(",", ":")).encode(),
                properties=pika.BasicProperties(content_type=CONTENT_TYPE,
                                                delivery_mode=pika.DeliveryMode.Persistent,
                                                message_id=event["id"], type=event["type"]),
            )
        self._confirms.wait()

    def process_events(self) -> None:
        """Let pika answer heartbeats while the publisher is idle."""
        if self._connection is not None and self._connection.is_open:
            self._connection.process_data_events(time_limit=0)

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.close()
            except pika.exceptions.AMQPError:
                log.debug("publisher connection already broken while closing")
        self._connection = None
        self._channel = None
        self._confirms = None
