"""Console logging in the one Taskwire format (text, or JSON lines with LOG_FORMAT=json), at the level asked for."""
from __future__ import annotations

import json
import logging.config
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from .settings import ConfigurationError

LOG_FORMAT = "{levelname} {asctime} {module} {message}"
LOG_FORMATS = ("text", "json")

# The event a consumer is handling in this thread (or greenlet), for the lines its handler logs.
current_event_id: ContextVar[str | None] = ContextVar("current_event_id", default=None)
_named_service = ""  # set by configure_logging(service=…) or gunicorn's logger; else the `python -m` package


def log_format() -> str:
    """LOG_FORMAT from the environment: `text` (the default) or `json`."""
    raw = os.environ.get("LOG_FORMAT", "").strip().lower()
    if not raw:
        return "text"
    if raw not in LOG_FORMATS:
        raise ConfigurationError(f"LOG_FORMAT must be text or json, got {raw!r}")
    return raw


def name_service(service: str) -> None:
    global _named_service
    _named_service = service


def service_name() -> str:
    """The service this process belongs to: as named, else the package run with `python -m` (tasks_svc.worker)."""
    if _named_service:
        return _named_service
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name.partition(".")[0] if spec else ""


@contextmanager
def handling_event(event_id: str | None) -> Iterator[None]:
    """Lines logged inside carry this event id."""
    token = current_event_id.set(event_id)
    try:
        yield
    finally:
        current_event_id.reset(token)


class LogContext(logging.Filter):
    """Adds what is known of the work in hand to each record: request_id, user_id (in a request), event_id."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.event_id = current_event_id.get()
        record.request_id = record.user_id = None
        # Only a process that has imported Flask can be in a request; gunicorn's master never imports it.
        flask = sys.modules.get("flask")
        if flask is not None and flask.has_app_context():
            record.request_id = flask.g.get("request_id")
            principal = flask.g.get("principal")
            record.user_id = getattr(principal, "user_id", None)
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line; request_id, event_id and user_id only where known, exc_info only with an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "service": service_name(),
            "module": record.module,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in ("request_id", "event_id", "user_id"):
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def logging_config(level: str = "DEBUG", log_format: str = "text") -> dict[str, Any]:
    """A dictConfig for the service and for gunicorn, so both log in the same format."""
    if log_format == "json":
        formatter: dict[str, Any] = {"()": JSONFormatter}
        filters = {"context": {"()": LogContext}}
    else:
        formatter, filters = {"format": LOG_FORMAT, "style": "{"}, {}
    console: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": "taskwire", "stream": "ext://sys.stderr"}
    if filters:
        console["filters"] = list(filters)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"taskwire": formatter},
        "filters": filters,
        "handlers": {"console": console},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Libraries stay quieter than ours even at DEBUG: their chatter drowns our lines.
            "pika": {"level": "WARNING"},
            "urllib3": {"level": "INFO"},
            "sqlalchemy.engine": {"level": "WARNING"},
            # gunicorn sets propagate=False on its own loggers, and dictConfig leaves it unless told: without
            # this its lines (starting, workers booted, timed out, exited) reached no handler at all.
            "gunicorn.error": {"level": "INFO", "propagate": True},
            "gunicorn.access": {"level": "INFO", "propagate": True},
        },
    }


def configure_logging(level: str = "DEBUG", service: str | None = None) -> None:
    """Log at `level` in the format LOG_FORMAT names (read here, once per process start)."""
    if service:
        name_service(service)
    logging.config.dictConfig(logging_config(level, log_format()))
