"""notify_svc settings: the common ones plus due-date reminders and coalescing."""
from __future__ import annotations

from dataclasses import dataclass

from taskwire_common.settings import ConfigurationError, ServiceSettings, env_int, read_service_settings

SERVICE = "notify_svc"


@dataclass(frozen=True)
class NotifySettings(ServiceSettings):
    reminder_lead_hours: int = 24  # "due soon" this long before a task is due
    reminder_scan_seconds: int = 60  # how often each worker looks for reminders to send
    notify_coalesce_seconds: int = 60  # an edit this close to the last one it follows folds into its notification


def load_settings() -> NotifySettings:
    settings = read_service_settings(
        SERVICE, "notifications_db", NotifySettings,
        reminder_lead_hours=env_int("REMINDER_LEAD_HOURS", 24),
        reminder_scan_seconds=env_int("REMINDER_SCAN_SECONDS", 60),
        notify_coalesce_seconds=env_int("NOTIFY_COALESCE_SECONDS", 60),
    )
    if settings.reminder_scan_seconds < 1 or settings.reminder_lead_hours < 0 or settings.notify_coalesce_seconds < 0:
        raise ConfigurationError("REMINDER_SCAN_SECONDS must be at least 1, REMINDER_LEAD_HOURS and "
                                 "NOTIFY_COALESCE_SECONDS at least 0")
    return settings
