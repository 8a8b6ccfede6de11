"""Wires notify_svc: settings, the shared app factory, its blueprints and the revocation feed."""
from __future__ import annotations

from flask import Flask

from taskwire_common.app_factory import ServiceParts, create_service_app
from taskwire_common.revocation import follow_revocations

from .api import blp
from .config import load_settings


def create_app(settings=None) -> Flask:
    settings = settings or load_settings()
    revocations, feed = follow_revocations(settings)
    return create_service_app(__name__, settings, ServiceParts(
        title="Taskwire notifications",
        api_prefix="/api/notifications",
        blueprints=[blp],
        is_revoked=revocations.is_revoked,
        checks={"revocations": feed.health},
        background=[feed],
    ))
