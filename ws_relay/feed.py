"""This relay process's own feed of events: an exclusive queue, consumed by one connection started after fork.

The queue lives as long as the process's connection: the relay pushes what happens while
clients are connected; a client that reconnects fetches the current state over HTTP. So that
no connected client misses an event in silence, losing the feed closes every socket (1012),
and while the feed is down new handshakes are refused (1013): a client connected is a client
that gets every later event.
"""
from __future__ import annotations

import json
import logging
import threading

import pika
import pika.exceptions

from taskwire_common.messaging import Backoff, follow_exclusive_queue, run_reconnecting

from .hub import SERVICE_RESTART, Hub

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
        def listening():
            self.connected, self.last_error = True, ""
            backoff.reset()
            log.info("event feed listening")
        try:
            follow_exclusive_queue(self.amqp_url, ROUTING_KEYS, self.stop_event, self._dispatch, listening)
        finally:
            if self.connected:
                self.connected = False
                # Events routed while the queue is gone are lost to this process's sockets: say so.
                self.hub.close_all(SERVICE_RESTART, "The event feed was interrupted; reconnect and re-fetch")

    def _dispatch(self, body: bytes) -> None:
        try:
            self.hub.dispatch(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.error("ignoring a malformed event (%s): %r", exc, body[:200])
