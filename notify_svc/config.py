"""notify_svc settings: the common ones."""
from __future__ import annotations

from taskwire_common.settings import ServiceSettings, read_service_settings

SERVICE = "notify_svc"


def load_settings() -> ServiceSettings:
    return read_service_settings(SERVICE, "notifications_db", ServiceSettings)
