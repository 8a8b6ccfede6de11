"""Wires ws_relay: settings, the shared app factory (which follows revocations), the hub, its feed, the routes."""
from __future__ import annotations

from flask import Flask

from broker import topology
from taskwire_common.app_factory import ServiceParts, create_service_app

from .config import RelaySettings, load_settings
from .feed import EventFeed
from .hub import Hub
from .sockets import DormantReader, bp, sock


def create_app(settings: RelaySettings | None = None) -> Flask:
    settings = settings or load_settings()
    hub = Hub()
    feed = EventFeed(hub, settings.amqp_url, topology)
    app = create_service_app(__name__, settings, ServiceParts(
        title="Taskwire WebSocket relay", api_prefix="/ws", background=[feed], checks={"events": feed.health},
        topology=topology))
    app.extensions["ws_relay.hub"] = hub
    app.extensions["ws_relay.feed"] = feed
    # No ping_interval and no reader thread: each socket's one greenlet (SocketLoop) pings, sends and reads.
    app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": 64 * 1024, "thread_class": DormantReader}
    app.register_blueprint(bp)
    sock.init_app(app)
    return app
