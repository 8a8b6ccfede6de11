"""Token revocation known to every process: a snapshot from users_svc, then `auth.token_revoked` events.

users_svc is the authority (its database). Every other process keeps a `RevocationList`
in memory, fed by a `RevocationFeed`: an exclusive queue bound to `auth.#`, bound before
the snapshot is fetched so that nothing revoked in between is missed, and re-synced the
same way after every reconnection. A revocation either names one token (`jti`, at logout)
or a user's token version (every token issued before it is dead: deactivation, role change).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .auth import Principal
from .contracts import Event, Revocation, read_revocation
from .live_feed import LiveFeed
from .messaging import Topology
from .settings import ServiceSettings

log = logging.getLogger(__name__)

SNAPSHOT_PATH = "/internal/revocations/"


class RevocationList:
    """Revoked token ids (until they expire) and each user's lowest valid token version."""

    def __init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._user_versions: dict[int, int] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Revocation], None]] = []

    def subscribe(self, listener: Callable[[Revocation], None]) -> None:
        """Call listener(revocation) for every revocation applied from now on (events and snapshots)."""
        self._listeners.append(listener)

    def is_revoked(self, principal: Principal) -> bool:
        with self._lock:
            if principal.jti in self._tokens:
                return True
            return principal.token_version < self._user_versions.get(principal.user_id, 0)

    def apply(self, revocation: Revocation) -> None:
        with self._lock:
            if revocation.jti and revocation.expires_at is not None:
                self._tokens[revocation.jti] = revocation.expires_at
            if revocation.token_version is not None:
                user_id, version = revocation.user_id, revocation.token_version
                self._user_versions[user_id] = max(version, self._user_versions.get(user_id, 0))
            self._forget_expired()
        for listener in self._listeners:
            listener(revocation)

    def load_snapshot(self, snapshot: dict[str, Any]) -> None:
        """users_svc's snapshot: `tokens` and `users`, lists of entries shaped as a revocation's data."""
        for entry in snapshot.get("tokens", []) + snapshot.get("users", []):
            self.apply(Revocation.from_mapping(entry))

    def _forget_expired(self) -> None:
        now = time.time()
        for jti in [jti for jti, expires in self._tokens.items() if expires < now]:
            del self._tokens[jti]


class RevocationFeed(LiveFeed):
    """Keeps a RevocationList current: the snapshot each time the queue is bound, then every revocation event."""

    name = "revocation feed"
    routing_keys = ("auth.#",)
    # The snapshot comes over HTTP, as JSON.
    reconnect_on = (*LiveFeed.reconnect_on, requests.RequestException, ValueError)

    def __init__(self, revocations: RevocationList, amqp_url: str, topology: Topology,
                 users_service_url: str) -> None:
        super().__init__(amqp_url, topology)
        self.revocations = revocations
        self.snapshot_url = users_service_url + SNAPSHOT_PATH

    def on_bound(self) -> None:
        response = requests.get(self.snapshot_url, timeout=5)
        response.raise_for_status()
        self.revocations.load_snapshot(response.json())

    def handle(self, event: Event) -> None:
        revocation = read_revocation(event)
        self.revocations.apply(revocation)
        log.info("token revoked for user %s", revocation.user_id)


def follow_revocations(settings: ServiceSettings, topology: Topology) -> tuple[RevocationList, RevocationFeed]:
    """The list and the feed that keeps it, for a service other than users_svc."""
    revocations = RevocationList()
    return revocations, RevocationFeed(revocations, settings.amqp_url, topology, settings.users_service_url)
