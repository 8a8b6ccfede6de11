"""GET /healthz: readiness, the service and each dependency it relies on, 200 when all are well, else 503 with
the reason; GET /livez: liveness, 200 whenever the process answers at all (it checks nothing)."""
from __future__ import annotations

from typing import Callable

from flask import Flask, Response, jsonify

# A check returns (healthy, detail); detail is a short string or a dict of figures.
HealthCheck = Callable[[], tuple[bool, object]]


def health_report(service: str, checks: dict[str, HealthCheck]) -> tuple[dict[str, object], bool]:
    """The /healthz body of a service, and whether every check passed."""
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in checks.items():
        ok, detail = check()
        healthy = healthy and ok
        results[name] = {"ok": ok, "detail": detail}
    return {"service": service, "status": "ok" if healthy else "unavailable", "checks": results}, healthy


def register_health(app: Flask, service: str, checks: dict[str, HealthCheck]) -> None:
    app.extensions["taskwire.health"] = lambda: health_report(service, checks)

    @app.get("/livez")
    def livez() -> Response:
        return jsonify({"service": service, "status": "alive"})

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        body, healthy = health_report(service, checks)
        return jsonify(body), 200 if healthy else 503
