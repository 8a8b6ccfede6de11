"""Profiles, processes and the environment each process gets, from processes.toml."""
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import cluster

REPO = Path(__file__).resolve().parent.parent
PROCESSES_FILE = Path(__file__).with_name("processes.toml")
BIN_DIR = Path(sys.executable).parent
PG_SERVER = "postgresql://taskwire:taskwire@127.0.0.1:5432"
AMQP_SERVER = "amqp://guest:guest@127.0.0.1:5672"
# Names a caller may set to override the profile's defaults (12-factor). DATABASE_URL is not
# one: each service has its own database, so one value for all of them would be wrong.
OVERRIDABLE = (
    "TASKWIRE_ENV", "LOG_LEVEL", "LOG_FORMAT", "AMQP_URL", "AMQP_URLS", "INTERNAL_API_KEY", "JWT_TTL_SECONDS",
    "USERS_SERVICE_URL", "WEB_CONCURRENCY", "LOGIN_MAX_FAILURES",
    "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_THROTTLE_SECONDS", "LOGIN_SLOW_AFTER_FAILURES",
    "LOGIN_MAX_DELAY_SECONDS", "REGISTRATION_OPEN", "WS_ALLOWED_ORIGINS", "TRUSTED_PROXIES",
)


@dataclass(frozen=True)
class Process:
    name: str
    command: str
    port: int | None = None
    database: str | None = None
    health: str | None = None
    flask_app: str | None = None
    migrations: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # this process's own settings, over the profile's
    signs_tokens: bool = False  # gets the profile's signing key directory (users_svc only: no other holds a key)
    gathers_health: bool = False  # answers the gateway's /healthz for every service (HEALTH_PEERS)


@dataclass(frozen=True)
class Profile:
    name: str
    taskwire_env: str
    gateway_port: int
    gateway_source_address: str  # where nginx connects to the services from (proxy_bind)
    amqp_vhost: str
    processes: tuple[Process, ...]
    env_defaults: dict[str, str] = field(default_factory=dict)
    var_root: Path = REPO / "var"
    broker_nodes: int = 0  # RabbitMQ nodes of the profile's own (stack/cluster.py); 0: the machine's RabbitMQ
    broker_port: int = 0  # the first node's AMQP port; the others follow it

    @property
    def state_dir(self) -> Path:
        return self.var_root / self.name

    @property
    def signing_key_dir(self) -> Path:
        """users_svc's token signing keys (made by `stack start` when there is none)."""
        return self.state_dir / "signing-keys"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def metrics_dir(self) -> Path:
        """prometheus_client's multiprocess files: a directory per service, emptied at every start."""
        return self.state_dir / "metrics"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def process(self, name: str) -> Process:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise KeyError(f"no process named {name!r} in {PROCESSES_FILE.name}")


def profile_names() -> list[str]:
    return list(_load()["profiles"])


def load_profile(name: str) -> Profile:
    data = _load()
    spec = data["profiles"][name]
    base = spec["port_base"]
    processes = tuple(_process(p, base, spec["database_suffix"]) for p in data["process"])
    return Profile(
        name=name,
        taskwire_env=spec["taskwire_env"],
        gateway_port=base + data["gateway"]["port_offset"],
        gateway_source_address=data["gateway"]["source_address"],
        amqp_vhost=spec["amqp_vhost"],
        processes=processes,
        env_defaults={**data.get("env", {}), **spec.get("env", {})},
        broker_nodes=spec.get("broker_nodes", 0),
        broker_port=spec.get("broker_port", 0),
    )


def process_env(profile: Profile, proc: Process, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The one place that builds a process's environment: profile defaults, then the caller's."""
    users = profile.process("users_svc")
    env = {
        "TASKWIRE_ENV": profile.taskwire_env,
        "AMQP_URL": f"{AMQP_SERVER}/{profile.amqp_vhost}",
        "USERS_SERVICE_URL": f"http://127.0.0.1:{users.port}",
        "TRUSTED_PROXIES": profile.gateway_source_address,
        **profile.env_defaults,
        **proc.env,
    }
    if profile.broker_nodes:
        env["AMQP_URLS"] = cluster.broker_urls(profile)
    if proc.database:
        env["DATABASE_URL"] = f"{PG_SERVER}/{proc.database}"
    if proc.signs_tokens:
        env["JWT_SIGNING_KEY_DIR"] = str(profile.signing_key_dir)
    if proc.gathers_health:
        env["HEALTH_PEERS"] = health_peers(profile, proc)
    # One directory for a service's web workers, outbox publisher and worker: one scrape of its /metrics sums them.
    env["PROMETHEUS_MULTIPROC_DIR"] = str(profile.metrics_dir / service_of(proc))
    env.update({k: environ[k] for k in OVERRIDABLE if k in environ})
    # The venv's tools (gunicorn, flask) first, and the repo importable without an install.
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach the log files as they happen
    env["PATH"] = os.pathsep.join([str(BIN_DIR), environ.get("PATH", os.defpath)])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    return env


def health_peers(profile: Profile, proc: Process) -> str:
    """Every other process the gateway checks (/healthz/<name>), as HEALTH_PEERS: name=http://127.0.0.1:port,…"""
    return ",".join(f"{other.health.rsplit('/', 1)[-1]}=http://127.0.0.1:{other.port}"
                    for other in profile.processes if other.health and other is not proc)


def service_of(proc: Process) -> str:
    """The service a process belongs to: the package its command runs (tasks_svc of `python -m tasks_svc.worker`)."""
    return proc.command.split()[-1].split(".")[0]


def _process(raw: dict[str, Any], port_base: int, database_suffix: str) -> Process:
    port = port_base + raw["port_offset"] if "port_offset" in raw else None
    database = raw["database"] + database_suffix if "database" in raw else None
    return Process(
        name=raw["name"],
        command=raw["command"].format(port=port),
        port=port,
        database=database,
        health=raw.get("health"),
        flask_app=raw.get("flask_app"),
        migrations=raw.get("migrations"),
        env=dict(raw.get("env", {})),
        signs_tokens=bool(raw.get("signs_tokens", False)),
        gathers_health=bool(raw.get("gathers_health", False)),
    )


def _load() -> dict[str, Any]:
    with PROCESSES_FILE.open("rb") as f:
        return tomllib.load(f)
