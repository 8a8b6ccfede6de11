"""ws_relay settings: the common ones (no database) plus the WebSocket timings."""
from __future__ import annotations

from dataclasses import dataclass

from taskwire_common.settings import ServiceSettings, env_int, read_service_settings

SERVICE = "ws_relay"


@dataclass(frozen=True)
class RelaySettings(ServiceSettings):
    ping_interval_seconds: int = 25


def load_settings() -> RelaySettings:
    return RelaySettings(
        **read_service_settings(SERVICE, default_database=None),
        ping_interval_seconds=env_int("WS_PING_INTERVAL_SECONDS", 25),
    )
