"""Builds a service's Flask app the one Taskwire way: logging, errors, request ids, auth, OpenAPI, health."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import flask_smorest
from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from flask_migrate import Migrate
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkExtension, InvalidChunkSize

from .auth import Authenticator, Principal, PublicKeys, TokenVerifier
from .blueprint import SECURITY_SCHEMES
from .conditional import PreconditionFailed, precondition_failed_response
from .db import check_database, db, init_reads, ping_when_idle, release_sessions_safely, sqlalchemy_url
from .errors import ProblemApi, problem_response
from .health import HealthCheck, register_health
from .jwks import RemoteKeySet, fetch_from_url, read_from_file
from .logs import configure_logging
from .messaging import Topology
from .metrics import register_metrics
from .outbox import outbox_health, outbox_lag
from .proxies import TrustedProxyFix
from .queue_health import QueueHealth
from .requestid import register_request_id
from .revocation import follow_revocations
from .security_headers import register_security_headers
from .settings import ServiceSettings, refuse_development_defaults

BODY_METHODS = {"POST", "PUT", "PATCH"}


class CompactJSONProvider(DefaultJSONProvider):
    compact = True
    sort_keys = False


class BackgroundTask(Protocol):
    """Something a gunicorn worker starts after fork and stops on exit (a feed, a consumer)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ServiceParts:
    """What a service brings to the factory; everything else is the same for all of them."""

    title: str
    api_prefix: str  # e.g. "/api/auth": the OpenAPI document is served at <prefix>/openapi.json
    blueprints: Iterable[flask_smorest.Blueprint] = ()
    migrations_dir: str | None = None  # the service's Alembic folder, for `flask db upgrade`
    has_outbox: bool = False  # report the outbox publisher's lag in /healthz
    checks: dict[str, HealthCheck] = field(default_factory=dict)  # more /healthz checks by name
    # The queue the service's worker consumes: /healthz reports the worker down or lagging (queue_health.py).
    worker_queue: str | None = None
    # How to tell a revoked token. None: follow users_svc's revocations (every service but users_svc),
    # through the broker topology below.
    is_revoked: Callable[[Principal], bool] | None = None
    # The public keys tokens are verified with. None: users_svc's JWKS (every service but users_svc).
    keys: PublicKeys | None = None
    topology: Topology | None = None
    background: list[BackgroundTask] = field(default_factory=list)  # run in gunicorn workers


def create_service_app(import_name: str, settings: ServiceSettings, parts: ServiceParts) -> Flask:
    configure_logging(settings.log_level)
    refuse_development_defaults(settings)
    logger = logging.getLogger(settings.service)

    app = Flask(import_name)
    # Behind the gateway: the client's address and scheme are the ones nginx adds (one proxy hop), believed
    # only from TRUSTED_PROXIES; anyone else's X-Forwarded-* are dropped.
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    app.json = CompactJSONProvider(app)
    app.config.update(
        TASKWIRE_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE=parts.title,
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=parts.api_prefix,
        OPENAPI_JSON_PATH="openapi.json",
    )
    checks: dict[str, HealthCheck] = {}
    if settings.database_url:
        app.config.update(
            SQLALCHEMY_DATABASE_URI=sqlalchemy_url(settings.database_url),
            # A pooled connection idle for a while is pinged before use (db.ping_when_idle), so that
            # after a database restart no request fails on a stale one; without a ping every worker
            # answered one 503 after PostgreSQL was already back. Connections beyond pool_size are
            # closed on return: under load that is a new PostgreSQL backend per request. Size the
            # pool for the concurrency a worker really sees.
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": settings.db_pool_size, "max_overflow": 4,
                                       "connect_args": {"connect_timeout": 5}},
        )
        db.init_app(app)
        with app.app_context():
            ping_when_idle(db.engine)
        init_reads(app, settings.database_url, settings.db_pool_size)
        release_sessions_safely(app)
        Migrate(app, db, directory=parts.migrations_dir or "migrations")
        checks["database"] = check_database
    if parts.has_outbox:
        checks["outbox"] = outbox_health
    if parts.worker_queue:
        worker = checks["worker"] = QueueHealth(settings.amqp_url, parts.worker_queue, settings.consumer_backlog_limit)
    checks.update(parts.checks)
    background: list[BackgroundTask] = list(parts.background)
    is_revoked = parts.is_revoked
    if is_revoked is None:
        if parts.topology is None:
            raise ValueError(f"{settings.service} follows revocations through the broker: give it the topology")
        revocations, feed = follow_revocations(settings, parts.topology)
        app.extensions["taskwire.revocations"] = revocations
        is_revoked = revocations.is_revoked
        checks["revocations"] = feed.health
        background.append(feed)

    register_metrics(app, outbox_lag if parts.has_outbox else None, worker if parts.worker_queue else None)
    register_request_id(app, logger)
    register_body_checks(app, settings.max_body_bytes)
    register_security_headers(app)
    api = ProblemApi(app)
    app.register_error_handler(PreconditionFailed, precondition_failed_response)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for blueprint in parts.blueprints:
        api.register_blueprint(blueprint)

    keys = parts.keys
    if keys is None:
        key_set = token_keys(settings)
        checks["keys"] = key_set.health
        keys = key_set
    app.extensions["taskwire.auth"] = Authenticator(TokenVerifier(settings.jwt, keys), is_revoked)
    app.extensions["taskwire.background"] = background
    register_health(app, settings.service, checks)
    return app


def token_keys(settings: ServiceSettings) -> RemoteKeySet:
    """The public keys of users_svc's JWKS: configured in a file (JWKS_FILE), or fetched from users_svc."""
    jwt = settings.jwt
    fetch = read_from_file(Path(jwt.jwks_file)) if jwt.jwks_file else fetch_from_url(jwt.jwks_url)
    return RemoteKeySet(fetch, refresh_seconds=jwt.jwks_refresh_seconds)


def register_body_checks(app: Flask, max_body_bytes: int) -> None:
    """Refuse oversized bodies (413), chunked ones included, and bodies that are not JSON (415) before any view runs."""

    @app.before_request
    def check_body() -> Response | None:
        if request.method not in BODY_METHODS:
            return None
        length = request.content_length  # None for a chunked body
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        try:
            too_large = (length is not None and length > max_body_bytes
                         or chunked and chunked_body_exceeds(max_body_bytes))
        except MALFORMED_CHUNKS:
            return problem_response(400, "Bad Request", "The chunked request body could not be parsed.")
        if too_large:
            return problem_response(413, "Payload Too Large",
                                    f"The request body may be at most {max_body_bytes} bytes.")
        if (length or chunked) and not request.is_json:
            return problem_response(415, "Unsupported Media Type",
                                    "Send the request body as application/json.")
        return None


# gunicorn's reader raises these while the app reads a broken chunked body; since gunicorn 27 they are no
# longer OSErrors, which werkzeug turns into a 400, and would be a 500.
MALFORMED_CHUNKS = (InvalidChunkSize, ChunkMissingTerminator, InvalidChunkExtension)


def chunked_body_exceeds(max_body_bytes: int) -> bool:
    """Read a chunked body, which has no Content-Length to check, and tell whether it is over the limit.

    werkzeug reads such a body up to MAX_CONTENT_LENGTH (max_body_bytes) and stops there without a word:
    the view would get it cut short, and answer 400 for the broken JSON. One byte more from the server's
    stream tells. What was read stays in get_data's cache for the view.
    """
    body = request.get_data(cache=True)
    if len(body) < max_body_bytes:
        return False
    return len(body) > max_body_bytes or request.environ["wsgi.input"].read(1) != b""
