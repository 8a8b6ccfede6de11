"""Wires ws_relay: settings, the shared app factory (which follows revocations), the hub, its feed, the routes."""
from __future__ import annotations

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app

from .config import RelaySettings, load_settings
from .feed import EventFeed
from .hub import Hub
from .sockets import bp, sock


def create_app(settings: RelaySettings | None = None) -> Flask:
    settings = settings or load_settings()
    hub = Hub()
    feed = EventFeed(hub, settings.amqp_url)
    app = create_service_app(__name__, settings, ServiceParts(
        title="Taskwire WebSocket relay", api_prefix="/ws", background=[feed], checks={"events": feed.health}))
    app.extensions["ws_relay.hub"] = hub
    app.extensions["ws_relay.feed"] = feed
    # No ping_interval here: the relay's Sender pings, so that one greenlet writes to each socket.
    app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": 64 * 1024}
    app.register_blueprint(bp)
    sock.init_app(app)
    return app
