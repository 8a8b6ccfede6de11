"""This relay process's own feed of events: an exclusive queue, consumed by one connection started after fork.

The queue lives as long as the process's connection: the relay pushes what happens while
clients are connected; a client that reconnects fetches the current state over HTTP. So that
no connected client misses an event in silence, losing the feed closes every socket (1012),
and while the feed is down new handshakes are refused (1013): a client connected is a client
that gets every later event.
"""
from __future__ import annotations

from taskwire_common.contracts import Event, MalformedEvent
from taskwire_common.live_feed import LiveFeed
from taskwire_common.messaging import Topology

from .hub import SERVICE_RESTART, Hub

ROUTING_KEYS = ("task.*", "notification.*", "auth.*")


class EventFeed(LiveFeed):
    name = "event feed"
    routing_keys = ROUTING_KEYS
    # The hub reads what routing needs from the event's data; an event without it is dropped, not fatal.
    unusable = (MalformedEvent, KeyError, TypeError, AttributeError)

    def __init__(self, hub: Hub, amqp_url: str, topology: Topology) -> None:
        super().__init__(amqp_url, topology)
        self.hub = hub

    def handle(self, event: Event) -> None:
        self.hub.dispatch(event)  # type: ignore[arg-type]  # the hub still reads a plain dict

    def on_lost(self) -> None:
        # Events routed while the queue is gone are lost to this process's sockets: say so.
        self.hub.close_all(SERVICE_RESTART, "The event feed was interrupted; reconnect and re-fetch")

    def health_detail(self) -> object:
        return {"sockets": len(self.hub)}
