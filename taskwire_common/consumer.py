"""A durable-queue consumer: acknowledge after the handler commits, dead-letter poison, reconnect with back-off.

A handler that raises a transient error (the database is down) is retried with back-off
while the message stays in hand, so an outage never dead-letters good messages. Any other
failure returns the message to the queue; the broker's delivery limit moves a message
that keeps failing to the dead-letter queue, and the others keep flowing.
"""
from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Callable

import pika
import pika.exceptions
from sqlalchemy.exc import DBAPIError, OperationalError

from broker import topology

from .messaging import Backoff, connection_parameters

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError,)


def is_transient(error: Exception) -> bool:
    return isinstance(error, TRANSIENT_ERRORS) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


class EventConsumer:
    def __init__(self, amqp_url: str, queue: str, handle: Callable[[dict], None], prefetch: int = 20,
                 on_connected: Callable[[], None] | None = None):
        self.amqp_url = amqp_url
        self.queue = queue
        self.handle = handle
        self.prefetch = prefetch
        self.on_connected = on_connected  # e.g. load a snapshot once the queue is bound
        self.stop = threading.Event()

    def run(self) -> None:
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                self._consume(backoff)
            except (pika.exceptions.AMQPError, OSError, OperationalError) as exc:
                # OSError covers requests' errors from a snapshot loaded in on_connected.
                log.warning("consumer of %s interrupted (%s: %s); reconnecting", self.queue,
                            type(exc).__name__, exc)
                backoff.wait(self.stop)
        log.info("consumer of %s stopped", self.queue)

    def _consume(self, backoff: Backoff) -> None:
        connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
        try:
            channel = connection.channel()
            topology.declare(channel)
            channel.basic_qos(prefetch_count=self.prefetch)
            if self.on_connected:
                self.on_connected()
            backoff.reset()
            log.info("consuming %s", self.queue)
            for method, _properties, body in channel.consume(self.queue, inactivity_timeout=1):
                if self.stop.is_set():
                    break
                if method is not None:
                    self._deliver(channel, method, body)
        finally:
            if connection.is_open:
                connection.close()  # unacknowledged messages go back to the queue

    def _deliver(self, channel, method, body: bytes) -> None:
        try:
            event = json.loads(body)
            if not isinstance(event, dict) or not {"id", "type", "data"} <= set(event):
                raise ValueError("not a Taskwire CloudEvent")
        except ValueError as exc:
            log.error("dead-lettering a malformed message on %s (%s): %r", self.queue, exc, body[:200])
            channel.basic_reject(method.delivery_tag, requeue=False)
            return
        if self._handle_with_retries(channel, event):
            channel.basic_ack(method.delivery_tag)
        else:
            channel.basic_nack(method.delivery_tag, requeue=True)

    def _handle_with_retries(self, channel, event: dict) -> bool:
        backoff = Backoff(first=0.5, cap=10.0)
        while True:
            try:
                self.handle(event)
                return True
            except Exception as exc:  # the handler's failure decides the message's fate, never the loop's
                if not is_transient(exc) or self.stop.is_set():
                    log.exception("handling %s %s failed; returning it to the queue", event["type"], event["id"])
                    return False
                log.warning("handling %s %s hit a transient error (%s); retrying", event["type"], event["id"],
                            type(exc).__name__)
                channel.connection.sleep(backoff.next_delay())  # keeps heartbeats flowing meanwhile


def run_until_signalled(consumer: EventConsumer) -> None:
    """Run a consumer in the foreground; SIGTERM or SIGINT stops it after the message in hand."""

    def request_stop(signum, _frame):
        log.info("consumer received signal %d; stopping", signum)
        consumer.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    consumer.run()
