"""A durable-queue consumer: acknowledge after the handler commits, dead-letter poison, reconnect with back-off.

Messages are handled in batches of what has arrived (up to the prefetch), one handler call
and so one transaction per batch: a backlog drains at database speed, not round-trip speed.
A handler that raises a transient error (the database is down) is retried with back-off
while the messages stay in hand, so an outage never dead-letters good messages. Any other
failure is retried one message at a time, so a poison message is isolated: it returns to
the queue, the broker's delivery limit moves it to the dead-letter queue after a few tries,
and the others keep flowing.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic
from sqlalchemy.exc import DBAPIError, OperationalError

from .contracts import Event, MalformedEvent, parse_event
from .heartbeat import Heartbeat
from .logs import handling_event
from .messaging import Backoff, Topology, connect, run_reconnecting
from .metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_FAILED

log = logging.getLogger(__name__)

# handle(events) stores the effect of every event in the list, in one transaction.
BatchHandler = Callable[[list[Event]], object]  # what it returns is not used


def delivery_tag(method: Basic.Deliver) -> int:
    """The broker's number for a delivery; pika types it optional only because a Deliver may be built without one."""
    if method.delivery_tag is None:
        raise ValueError("a delivery without a delivery tag")
    return method.delivery_tag


def is_transient(error: Exception) -> bool:
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def one_at_a_time(handle: Callable[[Event], object]) -> BatchHandler:
    """A batch handler from a handler of single, idempotent events."""
    def handle_batch(events: list[Event]) -> None:
        for event in events:
            with handling_event(event["id"]):
                handle(event)
    return handle_batch


class EventConsumer:
    """Consumes one durable queue of the topology (which declares it) with a batch handler."""

    def __init__(self, amqp_url: str, topology: Topology, queue: str, handle: BatchHandler, prefetch: int = 200,
                 on_connected: Callable[[], None] | None = None):
        self.amqp_url = amqp_url
        self.topology = topology
        self.queue = queue
        self.handle = handle
        self.prefetch = prefetch
        self.on_connected = on_connected  # e.g. load a snapshot once the queue is bound
        self.stop = threading.Event()
        self.heartbeat = Heartbeat.from_environment()  # touched while consuming

    def run(self) -> None:
        # OSError covers requests' errors from a snapshot loaded in on_connected.
        run_reconnecting(self._consume, self.stop, (pika.exceptions.AMQPError, OSError, OperationalError),
                         f"consumer of {self.queue}")
        log.info("consumer of %s stopped", self.queue)

    def _consume(self, backoff: Backoff) -> None:
        connection = connect(self.amqp_url)
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            channel.basic_qos(prefetch_count=self.prefetch)
            arrived: list[tuple[Basic.Deliver, bytes]] = []
            channel.basic_consume(self.queue, lambda _ch, method, _props, body: arrived.append((method, body)))
            if self.on_connected:
                self.on_connected()
            backoff.reset()
            log.info("consuming %s", self.queue)
            while not self.stop.is_set():
                self.heartbeat.beat()
                connection.process_data_events(time_limit=0 if arrived else 1)
                if arrived:
                    batch, arrived[:] = list(arrived), []
                    self._deliver(channel, batch)
        finally:
            if connection.is_open:
                connection.close()  # unacknowledged messages go back to the queue

    def _deliver(self, channel: BlockingChannel, batch: list[tuple[Basic.Deliver, bytes]]) -> None:
        messages: list[tuple[Basic.Deliver, Event]] = []
        for method, body in batch:
            try:
                messages.append((method, parse_event(body)))
            except MalformedEvent as error:
                log.error("dead-lettering a malformed message on %s (%s): %r", self.queue, error, body[:200])
                channel.basic_reject(delivery_tag(method), requeue=False)
                EVENTS_DEAD_LETTERED.labels(self.queue).inc()
        if not messages:
            return
        if self._handle_with_retries(channel, [event for _, event in messages]):
            # One ack for the batch: every earlier delivery on this channel is settled already (acknowledged,
            # rejected above, or returned), and later ones have higher tags.
            channel.basic_ack(delivery_tag(messages[-1][0]), multiple=True)
            EVENTS_CONSUMED.labels(self.queue).inc(len(messages))
            return
        for method, event in messages:  # isolate the one that fails
            if self._handle_with_retries(channel, [event]):
                channel.basic_ack(delivery_tag(method))
                EVENTS_CONSUMED.labels(self.queue).inc()
            else:
                log.error("handling %s %s failed; returning it to the queue", event["type"], event["id"])
                channel.basic_nack(delivery_tag(method), requeue=True)
                EVENTS_FAILED.labels(self.queue).inc()

    def _handle_with_retries(self, channel: BlockingChannel, events: list[Event]) -> bool:
        backoff = Backoff(first=0.5, cap=10.0)
        # A batch's lines name no one event; a failed batch is retried an event at a time, whose lines do.
        event_id = events[0]["id"] if len(events) == 1 else None
        while True:
            try:
                with handling_event(event_id):
                    self.handle(events)
                return True
            except Exception as exc:  # the handler's failure decides the messages' fate, never the loop's
                if not is_transient(exc) or self.stop.is_set():
                    log.warning("a batch of %d on %s failed: %s: %s", len(events), self.queue,
                                type(exc).__name__, exc)
                    return False
                log.warning("a batch of %d on %s hit a transient error (%s); retrying", len(events),
                            self.queue, type(exc).__name__)
                channel.connection.sleep(backoff.next_delay())  # keeps heartbeats flowing meanwhile
