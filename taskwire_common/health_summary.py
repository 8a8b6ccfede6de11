"""GET /healthz/all: the readiness of every Taskwire service in one answer, which the gateway serves as /healthz.

One service (users_svc) asks the others' /healthz at the addresses HEALTH_PEERS names, all at once, and
adds its own. The answer is 200 only when every service is ready, else 503 with each one's report; a
service that does not answer in time is "unreachable". A round is reused for a second, so a flood of
/healthz requests costs the other services at most one request each per second.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask, Response, jsonify

from .settings import ConfigurationError

PEER_TIMEOUT_SECONDS = 3.0
REUSE_SECONDS = 1.0

Report = tuple[dict[str, object], bool]  # a body and whether it says ready
Fetch = Callable[[str], Report]


def parse_peers(value: str) -> dict[str, str]:
    """HEALTH_PEERS, `name=http://host:port,…`, as {name: base URL}."""
    peers: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, url = item.partition("=")
        if not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise ConfigurationError(f"HEALTH_PEERS: {item!r} is not name=http://host:port")
        peers[name.strip()] = url.strip().rstrip("/")
    return peers


def fetch_health(base_url: str) -> Report:
    """A peer's /healthz answer; one that cannot be reached or read is an unreachable, unready service."""
    try:
        response = requests.get(f"{base_url}/healthz", timeout=PEER_TIMEOUT_SECONDS)
        body = response.json()
    except requests.Timeout:
        return {"status": "unreachable", "detail": f"no answer within {PEER_TIMEOUT_SECONDS:g} s"}, False
    except (requests.RequestException, ValueError) as error:
        return {"status": "unreachable", "detail": type(error).__name__}, False
    if not isinstance(body, dict):
        return {"status": "unreachable", "detail": f"HTTP {response.status_code} without a health report"}, False
    return body, response.status_code == 200


class SystemHealth:
    """Every service's readiness: this one's own report and its peers', gathered at most once a second."""

    def __init__(self, own_name: str, own: Callable[[], Report], peers: dict[str, str],
                 fetch: Fetch = fetch_health, clock: Callable[[], float] = time.monotonic):
        self.own_name, self.own, self.peers = own_name, own, peers
        self.fetch, self.clock = fetch, clock
        self.lock = threading.Lock()
        self.last: tuple[float, Report] | None = None

    def report(self) -> Report:
        with self.lock:  # callers arriving during a round wait for it rather than start their own
            if self.last is None or self.clock() - self.last[0] >= REUSE_SECONDS:
                self.last = (self.clock(), self.gather())
            return self.last[1]

    def gather(self) -> Report:
        with ThreadPoolExecutor(max_workers=max(1, len(self.peers))) as pool:
            asked = {name: pool.submit(self.fetch, url) for name, url in self.peers.items()}
            reports = {self.own_name: self.own(), **{name: future.result() for name, future in asked.items()}}
        ready = all(ok for _, ok in reports.values())
        services = {name: body for name, (body, _) in reports.items()}
        return {"status": "ok" if ready else "unavailable", "services": services}, ready


def register_system_health(app: Flask, own_name: str, peers: dict[str, str]) -> None:
    """Serve /healthz/all on the app, its own part from the app's /healthz checks."""
    system = SystemHealth(own_name, app.extensions["taskwire.health"], peers)

    @app.get("/healthz/all")
    def system_healthz() -> tuple[Response, int]:
        body, ready = system.report()
        return jsonify(body), 200 if ready else 503
