"""A process's own live feed of events: an exclusive queue followed from a background thread, re-bound after a break.

The queue lives as long as the feed's connection, so what is published while the feed is down
never reaches this process. A feed therefore counts as synced only once its queue is bound and
whatever it loads on binding is loaded (from then on nothing published is missed): the revocation
feed loads a snapshot each time it binds its queue again. (The WebSocket relay reads a stream
instead, which keeps what is published while it is away: ws_relay/feed.py.)
"""
from __future__ import annotations

import logging
import threading

import pika.exceptions

from .contracts import Event, MalformedEvent, parse_event
from .messaging import Backoff, Topology, follow_exclusive_queue, run_reconnecting

log = logging.getLogger(__name__)


class LiveFeed:
    """Start, stop, health and the reconnect loop of a feed; a subclass names its routing keys and handles events.

    Runs in a thread, which is a greenlet under gunicorn's gevent worker.
    """

    name = "live feed"
    routing_keys: tuple[str, ...] = ()
    # What interrupts the feed: it reports the error in its health and reconnects with back-off.
    reconnect_on: tuple[type[Exception], ...] = (pika.exceptions.AMQPError, OSError)
    # What handle() raises for an event it cannot use: the event is logged and dropped, the feed goes on.
    unusable: tuple[type[Exception], ...] = (MalformedEvent,)

    def __init__(self, amqp_url: str, topology: Topology) -> None:
        self.amqp_url = amqp_url
        self.topology = topology
        self.synced = False
        self.last_error = "not started"
        self.stop_event = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self.run, name=self.name.replace(" ", "-"), daemon=True).start()

    def stop(self) -> None:
        self.stop_event.set()

    def health(self) -> tuple[bool, object]:
        return (True, self.health_detail()) if self.synced else (False, self.last_error)

    def run(self) -> None:
        run_reconnecting(self._follow, self.stop_event, self.reconnect_on, self.name, on_error=self._interrupted)

    def on_bound(self) -> None:
        """Runs once the queue is bound, before the feed counts as synced: load a snapshot here."""

    def handle(self, event: Event) -> None:
        """What one event does; raise one of `unusable` for an event this feed cannot use."""
        raise NotImplementedError

    def health_detail(self) -> object:
        return "synced"

    def _interrupted(self, error: Exception) -> None:
        self.last_error = f"{type(error).__name__}: {error}"

    def _follow(self, backoff: Backoff) -> None:
        def synced() -> None:
            self.on_bound()
            self.synced, self.last_error = True, ""
            backoff.reset()
            log.info("%s synced and listening", self.name)

        try:
            follow_exclusive_queue(self.amqp_url, self.topology, self.routing_keys, self.stop_event, self._receive,
                                   synced)
        finally:
            self.synced = False

    def _receive(self, body: bytes) -> None:
        try:
            self.handle(parse_event(body))
        except self.unusable as error:
            log.error("%s ignores a malformed event (%s): %r", self.name, error, body[:200])
