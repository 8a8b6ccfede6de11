"""users_svc settings: the common ones plus registration and login throttling."""
from __future__ import annotations

from dataclasses import dataclass, field

from taskwire_common.health_summary import parse_peers
from taskwire_common.settings import ServiceSettings, env_bool, env_int, env_str, read_service_settings

SERVICE = "users_svc"


@dataclass(frozen=True)
class UsersSettings(ServiceSettings):
    registration_open: bool = True
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_throttle_seconds: int = 300
    login_slow_after_failures: int = 10
    login_max_delay_seconds: int = 10
    # The other services' base URLs for /healthz/all (the gateway's /healthz): HEALTH_PEERS, name=url,…
    health_peers: dict[str, str] = field(default_factory=dict)


def load_settings() -> UsersSettings:
    return read_service_settings(
        SERVICE, "users_db", UsersSettings,
        registration_open=env_bool("REGISTRATION_OPEN", True),
        login_max_failures=env_int("LOGIN_MAX_FAILURES", 5),
        login_max_failures_per_address=env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        login_throttle_seconds=env_int("LOGIN_THROTTLE_SECONDS", 300),
        login_slow_after_failures=env_int("LOGIN_SLOW_AFTER_FAILURES", 10),
        login_max_delay_seconds=env_int("LOGIN_MAX_DELAY_SECONDS", 10),
        health_peers=parse_peers(env_str("HEALTH_PEERS", "")),
    )
