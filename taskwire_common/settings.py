"""Settings read from the environment (12-factor), with development defaults that production refuses."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TypeVar

DEV_INTERNAL_API_KEY = "dev-only-internal-api-key-do-not-use-in-production"
DEV_DATABASE_PASSWORD = "taskwire:taskwire@"
DEV_AMQP_CREDENTIALS = "guest:guest@"
# What the documented examples (.env.example, docs) put where a secret goes: never a secret.
PLACEHOLDER_MARK = "change-me"
MIN_SECRET_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The environment does not describe a service that may start."""


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class JWTSettings:
    """Tokens: users_svc signs with the keys of `signing_key_dir`; the other services verify with the public keys
    of `jwks_file` if set, else of users_svc's JWKS at `jwks_url`."""

    issuer: str
    audience: str
    ttl_seconds: int
    signing_key_dir: str = ""
    jwks_url: str = ""
    jwks_file: str = ""
    jwks_refresh_seconds: int = 300


@dataclass(frozen=True)
class ServiceSettings:
    """What every service reads; a service adds its own fields by subclassing."""

    service: str
    environment: str
    log_level: str
    database_url: str
    amqp_url: str  # one broker, or a cluster's nodes separated by commas (AMQP_URLS; broker_urls)
    users_service_url: str
    jwt: JWTSettings
    internal_api_key: str  # what services show each other on /internal/ (users_svc checks it)
    max_body_bytes: int
    db_pool_size: int
    consumer_backlog_limit: int  # messages waiting for a service's worker before /healthz calls it lagging
    outbox_lag_limit_seconds: int  # age of the oldest unpublished outbox event before /healthz says 503
    # Peers whose X-Forwarded-For names the client (taskwire_common/proxies.py): the gateway's address.
    trusted_proxies: tuple[str, ...]
    # METRICS_LISTEN, host:port: where a worker or outbox publisher serves its own /metrics (compose, where it
    # has no web service beside it to serve them); empty: nowhere.
    metrics_listen: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def read_jwt_settings(users_service_url: str) -> JWTSettings:
    return JWTSettings(
        issuer=env_str("JWT_ISSUER", "taskwire"),
        audience=env_str("JWT_AUDIENCE", "taskwire"),
        ttl_seconds=env_int("JWT_TTL_SECONDS", 8 * 3600),
        signing_key_dir=env_str("JWT_SIGNING_KEY_DIR", ""),
        jwks_url=env_str("JWKS_URL", users_service_url + "/api/auth/.well-known/jwks.json"),
        jwks_file=env_str("JWKS_FILE", ""),
        jwks_refresh_seconds=env_int("JWKS_REFRESH_SECONDS", 300),
    )


S = TypeVar("S", bound=ServiceSettings)


def broker_urls(amqp_url: str) -> list[str]:
    """The brokers of an AMQP_URL or AMQP_URLS setting: one URL, or a cluster's nodes as URLs separated by
    commas, in the order clients try them. Raises ConfigurationError on an empty entry."""
    urls = [url.strip() for url in amqp_url.split(",")]
    if not all(urls):
        raise ConfigurationError(f"AMQP_URLS: an empty address among {len(urls)} comma-separated ones")
    return urls


def read_service_settings(service: str, default_database: str | None, settings_class: type[S],
                          **own_fields: Any) -> S:
    """The common settings read from the environment, in `settings_class` with the service's own fields."""
    database_url = ""
    if default_database:
        database_url = env_str(
            "DATABASE_URL", f"postgresql://taskwire:taskwire@127.0.0.1:5432/{default_database}"
        )
    users_service_url = env_str("USERS_SERVICE_URL", "http://127.0.0.1:8001").rstrip("/")
    return settings_class(
        service=service,
        environment=env_str("TASKWIRE_ENV", "development"),
        log_level=env_str("LOG_LEVEL", "DEBUG").upper(),
        database_url=database_url,
        amqp_url=",".join(broker_urls(
            env_str("AMQP_URLS", "") or env_str("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/taskwire"))),
        users_service_url=users_service_url,
        jwt=read_jwt_settings(users_service_url),
        internal_api_key=env_str("INTERNAL_API_KEY", DEV_INTERNAL_API_KEY),
        max_body_bytes=env_int("MAX_BODY_BYTES", 1024 * 1024),
        db_pool_size=env_int("DB_POOL_SIZE", 16),
        consumer_backlog_limit=env_int("CONSUMER_BACKLOG_LIMIT", 5000),
        outbox_lag_limit_seconds=env_int("OUTBOX_LAG_LIMIT_SECONDS", 60),
        # The local stack's gateway connects from this loopback address (stack/processes.toml).
        trusted_proxies=tuple(e.strip() for e in env_str("TRUSTED_PROXIES", "127.0.0.8").split(",") if e.strip()),
        metrics_listen=env_str("METRICS_LISTEN", ""),
        **own_fields,
    )


def refuse_development_defaults(settings: ServiceSettings) -> None:
    """In production, every secret must come from the environment, never from a default."""
    if not settings.is_production:
        return
    problems = []
    key = settings.internal_api_key
    if key == DEV_INTERNAL_API_KEY:
        problems.append("INTERNAL_API_KEY is the development default")
    elif len(key) < MIN_SECRET_LENGTH:
        problems.append(f"INTERNAL_API_KEY must be at least {MIN_SECRET_LENGTH} characters")
    if DEV_DATABASE_PASSWORD in settings.database_url:
        problems.append("DATABASE_URL uses the development password")
    if DEV_AMQP_CREDENTIALS in settings.amqp_url:
        problems.append("AMQP_URL(S) uses the development guest account")
    for name, value in (("INTERNAL_API_KEY", key), ("DATABASE_URL", settings.database_url),
                        ("AMQP_URL(S)", settings.amqp_url)):
        if PLACEHOLDER_MARK in value.lower():
            problems.append(f"{name} holds a documented placeholder ({PLACEHOLDER_MARK}…), not a secret")
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))
