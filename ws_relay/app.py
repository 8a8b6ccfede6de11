"""Wires ws_relay: settings, the shared app factory (which follows revocations), the hub, its feed reader, routes."""
from __future__ import annotations

from flask import Flask

from broker import topology
from taskwire_common.app_factory import ServiceParts, create_service_app
from taskwire_common.internal import InternalClient

from .config import RelaySettings, load_settings
from .feed import FeedReader
from .hub import Hub
from .replay import ReaderSlots
from .sockets import bp, sock
from .wire import DormantReader


def create_app(settings: RelaySettings | None = None) -> Flask:
    settings = settings or load_settings()
    hub = Hub(settings.history_size, settings.max_sockets_per_user)
    feed = FeedReader(hub, settings.amqp_url, topology, settings.feed_retention)
    app = create_service_app(__name__, settings, ServiceParts(
        title="Taskwire WebSocket relay", api_prefix="/ws", background=[feed], checks={"events": feed.health},
        topology=topology))
    app.extensions["taskwire.revocations"].subscribe(hub.revoke)
    app.extensions["ws_relay.hub"] = hub
    app.extensions["ws_relay.feed"] = feed
    app.extensions["ws_relay.users"] = InternalClient(settings.users_service_url, settings.internal_api_key)
    # Resuming sockets reading the stream at once (cursors older than the history): per process, one per user.
    app.extensions["ws_relay.replay_readers"] = ReaderSlots(settings.replay_readers)
    # No ping_interval and no reader thread: each socket's one greenlet (SocketLoop) pings, sends and reads.
    app.config["SOCK_SERVER_OPTIONS"] = {"max_message_size": 64 * 1024, "thread_class": DormantReader}
    app.register_blueprint(bp)
    sock.init_app(app)
    return app
