"""Wires users_svc: settings, the shared app factory, its blueprints and its own revocation check."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app

from . import services
from .api import blp, internal
from .cli import register_cli
from .config import UsersSettings, load_settings


def create_app(settings: UsersSettings | None = None) -> Flask:
    settings = settings or load_settings()
    app = create_service_app(__name__, settings, ServiceParts(
        title="Taskwire users",
        api_prefix="/api/auth",
        blueprints=[blp],
        migrations_dir=str(Path(__file__).parent / "migrations"),
        has_outbox=True,
        is_revoked=services.is_revoked,  # the authority: its own database
    ))
    # Service-to-service only: the gateway does not route it, so the public OpenAPI document omits it.
    app.register_blueprint(internal)
    register_cli(app)
    return app
