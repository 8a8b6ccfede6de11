"""Token revocation known to every process: a snapshot from users_svc, then `auth.token_revoked` events.

users_svc is the authority (its database). Every other process keeps a `RevocationList`
in memory, fed by a `RevocationFeed`: an exclusive queue bound to `auth.#`, bound before
the snapshot is fetched so that nothing revoked in between is missed, and re-synced the
same way after every reconnection. A revocation either names one token (`jti`, at logout)
or a user's token version (every token issued before it is dead: deactivation, role change).
"""
from __future__ import annotations

import json
import logging
import threading
import time

import pika
import pika.exceptions
import requests

from .auth import Principal
from .messaging import Backoff, follow_exclusive_queue, run_reconnecting

log = logging.getLogger(__name__)

SNAPSHOT_PATH = "/internal/revocations/"


class RevocationList:
    """Revoked token ids (until they expire) and each user's lowest valid token version."""

    def __init__(self):
        self._tokens: dict[str, float] = {}
        self._user_versions: dict[int, int] = {}
        self._lock = threading.Lock()

    def is_revoked(self, principal: Principal) -> bool:
        with self._lock:
            if principal.jti in self._tokens:
                return True
            return principal.token_version < self._user_versions.get(principal.user_id, 0)

    def apply(self, revocation: dict) -> None:
        """Apply one revocation, as carried by an event's data or a snapshot entry."""
        with self._lock:
            if revocation.get("jti"):
                self._tokens[revocation["jti"]] = float(revocation["expires_at"])
            if revocation.get("token_version") is not None:
                user_id = int(revocation["user_id"])
                version = int(revocation["token_version"])
                self._user_versions[user_id] = max(version, self._user_versions.get(user_id, 0))
            self._forget_expired()

    def load_snapshot(self, snapshot: dict) -> None:
        for entry in snapshot.get("tokens", []) + snapshot.get("users", []):
            self.apply(entry)

    def _forget_expired(self) -> None:
        now = time.time()
        for jti in [jti for jti, expires in self._tokens.items() if expires < now]:
            del self._tokens[jti]


class RevocationFeed:
    """Keeps a RevocationList current from a background thread (a greenlet under gevent)."""

    def __init__(self, revocations: RevocationList, amqp_url: str, users_service_url: str):
        self.revocations = revocations
        self.amqp_url = amqp_url
        self.snapshot_url = users_service_url + SNAPSHOT_PATH
        self.synced = False
        self.last_error = "not started"
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="revocation-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def health(self) -> tuple[bool, str]:
        return (True, "synced") if self.synced else (False, self.last_error)

    def run(self) -> None:
        run_reconnecting(self._follow, self.stop_event,
                         (pika.exceptions.AMQPError, requests.RequestException, OSError, ValueError),
                         "revocation feed", on_error=self._lost)

    def _lost(self, error: Exception) -> None:
        self.synced, self.last_error = False, f"{type(error).__name__}: {error}"

    def _follow(self, backoff: Backoff) -> None:
        def synced():
            self._load_snapshot()
            self.synced, self.last_error = True, ""
            backoff.reset()
            log.info("revocation feed synced and listening")
        try:
            follow_exclusive_queue(self.amqp_url, ["auth.#"], self.stop_event, self._apply_event, synced)
        finally:
            self.synced = False

    def _load_snapshot(self) -> None:
        response = requests.get(self.snapshot_url, timeout=5)
        response.raise_for_status()
        self.revocations.load_snapshot(response.json())

    def _apply_event(self, body: bytes) -> None:
        try:
            event = json.loads(body)
            self.revocations.apply(event["data"])
        except (ValueError, KeyError, TypeError) as exc:
            log.error("ignoring malformed revocation event (%s): %r", exc, body[:200])
        else:
            log.info("token revoked for user %s", event["data"].get("user_id"))


def follow_revocations(settings) -> tuple[RevocationList, RevocationFeed]:
    """The list and the feed that keeps it, for a service other than users_svc."""
    revocations = RevocationList()
    return revocations, RevocationFeed(revocations, settings.amqp_url, settings.users_service_url)
