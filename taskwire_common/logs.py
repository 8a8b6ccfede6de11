"""Console logging in the one Taskwire format, at the level the environment asks for."""
from __future__ import annotations

import logging.config
from typing import Any

LOG_FORMAT = "{levelname} {asctime} {module} {message}"


def logging_config(level: str = "DEBUG") -> dict[str, Any]:
    """A dictConfig for the service and for gunicorn, so both log in the same format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"taskwire": {"format": LOG_FORMAT, "style": "{"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "taskwire",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Libraries stay quieter than ours even at DEBUG: their chatter drowns our lines.
            "pika": {"level": "WARNING"},
            "urllib3": {"level": "INFO"},
            "sqlalchemy.engine": {"level": "WARNING"},
            "gunicorn.error": {"level": "INFO"},
            "gunicorn.access": {"level": "INFO"},
        },
    }


def configure_logging(level: str = "DEBUG") -> None:
    logging.config.dictConfig(logging_config(level))
