"""Wires ws_relay: settings, the shared app factory, the WebSocket routes and the revocation feed."""
from __future__ import annotations

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app
from taskwire_common.revocation import follow_revocations

from .config import RelaySettings, load_settings
from .sockets import bp, sock


def create_app(settings: RelaySettings | None = None) -> Flask:
    settings = settings or load_settings()
    revocations, feed = follow_revocations(settings)
    app = create_service_app(__name__, settings, ServiceParts(
        title="Taskwire WebSocket relay",
        api_prefix="/ws",
        is_revoked=revocations.is_revoked,
        checks={"revocations": feed.health},
        background=[feed],
    ))
    app.config["SOCK_SERVER_OPTIONS"] = {"ping_interval": settings.ping_interval_seconds,
                                         "max_message_size": 64 * 1024}
    app.register_blueprint(bp)
    sock.init_app(app)
    return app
