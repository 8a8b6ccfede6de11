"""This relay process's own feed of events: an exclusive queue, consumed by one connection started after fork.

The queue lives as long as the process's connection: the relay pushes what happens while
clients are connected; a client that reconnects fetches the current state over HTTP.
"""
from __future__ import annotations

import json
import logging
import threading

import pika
import pika.exceptions

from broker import topology
from taskwire_common.messaging import Backoff, connection_parameters, run_reconnecting

from .hub import Hub

log = logging.getLogger(__name__)

ROUTING_KEYS = ("task.*", "notification.*", "auth.*")


class EventFeed:
    def __init__(self, hub: Hub, amqp_url: str):
        self.hub = hub
        self.amqp_url = amqp_url
        self.connected = False
        self.last_error = "not started"
        self.stop_event = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self.run, name="event-feed", daemon=True).start()

    def stop(self) -> None:
        self.stop_event.set()

    def health(self) -> tuple[bool, object]:
        if not self.connected:
            return False, self.last_error
        return True, {"sockets": len(self.hub)}

    def run(self) -> None:
        run_reconnecting(self._follow, self.stop_event, (pika.exceptions.AMQPError, OSError), "event feed",
                         on_error=self._lost)

    def _lost(self, error: Exception) -> None:
        self.last_error = f"{type(error).__name__}: {error}"

    def _follow(self, backoff: Backoff) -> None:
        connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
        try:
            channel = connection.channel()
            topology.declare(channel)
            queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
            for routing_key in ROUTING_KEYS:
                channel.queue_bind(queue=queue, exchange=topology.EXCHANGE, routing_key=routing_key)
            self.connected, self.last_error = True, ""
            backoff.reset()
            log.info("event feed listening on %s", queue)
            for method, _properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=1):
                if self.stop_event.is_set():
                    break
                if method is not None:
                    self._dispatch(body)
        finally:
            self.connected = False
            if connection.is_open:
                connection.close()

    def _dispatch(self, body: bytes) -> None:
        try:
            self.hub.dispatch(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.error("ignoring a malformed event (%s): %r", exc, body[:200])
