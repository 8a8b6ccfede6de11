"""Wires users_svc: settings, its signing keys, the shared app factory, its blueprints and its own revocation check."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app
from taskwire_common.errors import problem_response
from taskwire_common.health_summary import register_system_health
from taskwire_common.settings import ConfigurationError

from . import services
from .api import blp, internal
from .cli import register_cli
from .config import UsersSettings, load_settings
from .signing_keys import KeyRing, NoSigningKey


def create_app(settings: UsersSettings | None = None) -> Flask:
    settings = settings or load_settings()
    keys = signing_keys(settings)
    app = create_service_app(__name__, settings, ServiceParts(
        title="Taskwire users",
        api_prefix="/api/auth",
        blueprints=[blp],
        migrations_dir=str(Path(__file__).parent / "migrations"),
        has_outbox=True,
        is_revoked=services.is_revoked,  # the authority: its own database
        keys=keys,  # it verifies with its own keys' public halves
    ))
    app.extensions["users_svc.keys"] = keys
    # The key directory went away after the start: no token can be signed until it is back.
    app.register_error_handler(NoSigningKey, lambda error: problem_response(
        503, "Service Unavailable", "Tokens cannot be issued right now.", headers={"Retry-After": "5"}))
    # Service-to-service only: the gateway does not route it, so the public OpenAPI document omits it.
    app.register_blueprint(internal)
    if settings.health_peers:
        # The gateway's /healthz: this service's readiness and every other service's, in one answer.
        register_system_health(app, "users", settings.health_peers)
    register_cli(app)
    return app


def signing_keys(settings: UsersSettings) -> KeyRing:
    """The key ring tokens are signed with: users_svc does not start without one (any environment), nor, in
    production, with key files that others than their owner may read."""
    if not settings.jwt.signing_key_dir:
        raise ConfigurationError("JWT_SIGNING_KEY_DIR is not set: users_svc needs its signing keys "
                                 "(make one with `make rotate-signing-key`)")
    directory = Path(settings.jwt.signing_key_dir)
    try:
        keys = KeyRing(directory)
    except NoSigningKey as error:
        raise ConfigurationError(str(error)) from None
    if settings.is_production:
        exposed = [path.name for path in directory.glob("*.pem") if path.stat().st_mode & 0o077]
        if exposed:
            raise ConfigurationError(f"refusing to start in production: signing keys readable by others than "
                                     f"their owner in {directory}: {', '.join(exposed)} (chmod 600)")
    return keys
