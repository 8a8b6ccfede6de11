"""Wires tasks_svc: settings, the shared app factory, its blueprint, the outbox lag and the revocation feed."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app
from taskwire_common.outbox import outbox_lag
from taskwire_common.revocation import follow_revocations

from .api import blp
from .config import load_settings


def outbox_health() -> tuple[bool, dict]:
    return True, outbox_lag()


def create_app(settings=None) -> Flask:
    settings = settings or load_settings()
    revocations, feed = follow_revocations(settings)
    return create_service_app(__name__, settings, ServiceParts(
        title="Taskwire tasks",
        api_prefix="/api/tasks",
        blueprints=[blp],
        is_revoked=revocations.is_revoked,
        checks={"revocations": feed.health, "outbox": outbox_health},
        background=[feed],
        migrations_dir=str(Path(__file__).parent / "migrations"),
    ))
