"""Wires notify_svc: settings, the shared app factory, its blueprint and migrations."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from broker import topology
from taskwire_common.app_factory import ServiceParts, create_service_app

from .api import blp
from .config import load_settings


def create_app(settings=None) -> Flask:
    settings = settings or load_settings()
    return create_service_app(__name__, settings, ServiceParts(
        title="Taskwire notifications",
        api_prefix="/api/notifications",
        blueprints=[blp],
        migrations_dir=str(Path(__file__).parent / "migrations"),
        has_outbox=True,
        worker_queue=topology.NOTIFY_TASKS_QUEUE,  # /healthz: its worker consumes this queue
        topology=topology,  # its revocation feed binds to the exchange
    ))
