"""Wires ws_relay: settings, the shared app factory (which follows revocations) and the WebSocket routes."""
from __future__ import annotations

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app

from .config import RelaySettings, load_settings
from .sockets import bp, sock


def create_app(settings: RelaySettings | None = None) -> Flask:
    settings = settings or load_settings()
    app = create_service_app(__name__, settings, ServiceParts(title="Taskwire WebSocket relay", api_prefix="/ws"))
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": settings.ping_interval_seconds,
                                         "max_message_size": 64 * 1024}
    app.register_blueprint(bp)
    sock.init_app(app)
    return app
