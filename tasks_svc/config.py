"""tasks_svc settings: the common ones."""
from __future__ import annotations

from taskwire_common.settings import ServiceSettings, read_service_settings

SERVICE = "tasks_svc"


def load_settings() -> ServiceSettings:
    return read_service_settings(SERVICE, "tasks_db", ServiceSettings)
