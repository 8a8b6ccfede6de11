"""Who may still use a token, known to every process: users_svc's snapshot, then its `auth.*` and `user.*` events.

users_svc is the authority (its database). Every other process keeps a `RevocationList` in
memory, fed by a `RevocationFeed`: an exclusive queue bound to `auth.#` and `user.#`, bound
before the snapshot is fetched so that nothing changed in between is missed, and re-synced the
same way after every reconnection. A revocation either names one token (`jti`, at logout) or a
user's token version (every token issued before it is dead: deactivation, role change).

The list also knows every account and whether it is active: a token is good only for a user the
list knows as active. A user it has not heard of (signed up a moment ago, its `user.created` still
on the way) is looked up once at users_svc; a lookup that finds nobody is not repeated for
UNKNOWN_USER_SECONDS. users_svc alone signs tokens, so only a real account's token ever gets
that far.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from .auth import Principal
from .contracts import USER_EVENT_TYPES, Event, Revocation, read_revocation, read_user_event
from .internal import InternalClient
from .live_feed import LiveFeed
from .messaging import Topology
from .settings import ServiceSettings

log = logging.getLogger(__name__)

SNAPSHOT_PATH = "/internal/revocations/"
ACCOUNT_PATH = "/internal/users/{user_id}/"
UNKNOWN_USER_SECONDS = 5.0
UNKNOWN_USERS_KEPT = 10_000

# A lookup of one account: its `is_active`, `version` and `token_version`, or None when there is no such user.
AccountLookup = Callable[[int], dict[str, Any] | None]


class RevocationList:
    """Revoked token ids (until they expire), each user's lowest valid token version, and every account's state."""

    def __init__(self, lookup: AccountLookup | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._tokens: dict[str, float] = {}
        self._user_versions: dict[int, int] = {}
        self._accounts: dict[int, tuple[bool, int]] = {}  # user id -> (is_active, the user's version)
        self._unknown: dict[int, float] = {}  # user id -> when a lookup last found no such user
        self._lookup, self._clock = lookup, clock
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Revocation], None]] = []

    def subscribe(self, listener: Callable[[Revocation], None]) -> None:
        """Call listener(revocation) for every revocation applied from now on (events and snapshots)."""
        self._listeners.append(listener)

    def is_revoked(self, principal: Principal) -> bool:
        """Whether the token is dead: revoked itself, older than its user's token version, or its user unknown or
        inactive."""
        with self._lock:
            if principal.jti in self._tokens:
                return True
            if principal.token_version < self._user_versions.get(principal.user_id, 0):
                return True
            account = self._accounts.get(principal.user_id)
        if account is None:
            account = self._look_up(principal.user_id)
            if account is not None and principal.token_version < self._user_versions.get(principal.user_id, 0):
                return True
        return account is None or not account[0]

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

    def apply_account(self, user_id: int, is_active: bool, version: int) -> None:
        """An account as users_svc last described it; an older description than the one held changes nothing."""
        with self._lock:
            held = self._accounts.get(user_id)
            if held is None or held[1] < version:
                self._accounts[user_id] = (is_active, version)
            self._unknown.pop(user_id, None)

    def load_snapshot(self, snapshot: dict[str, Any]) -> None:
        """users_svc's snapshot: `tokens` and `users` (entries shaped as a revocation's data) and `accounts`."""
        for entry in snapshot.get("tokens", []) + snapshot.get("users", []):
            self.apply(Revocation.from_mapping(entry))
        for account in snapshot.get("accounts", []):
            self.apply_account(int(account["user_id"]), bool(account["is_active"]), int(account["version"]))

    def _look_up(self, user_id: int) -> tuple[bool, int] | None:
        if self._lookup is None:
            return None
        with self._lock:
            missed_at = self._unknown.get(user_id)
        if missed_at is not None and self._clock() - missed_at < UNKNOWN_USER_SECONDS:
            return None
        try:
            found = self._lookup(user_id)
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            log.warning("could not look up user %s at users_svc: %s", user_id, error)
            return None
        if found is None:
            with self._lock:
                if len(self._unknown) >= UNKNOWN_USERS_KEPT:
                    self._unknown.clear()
                self._unknown[user_id] = self._clock()
            log.info("a token names user %s, whom users_svc does not know", user_id)
            return None
        self.apply(Revocation(user_id=user_id, token_version=int(found["token_version"])))
        self.apply_account(user_id, bool(found["is_active"]), int(found["version"]))
        with self._lock:
            return self._accounts.get(user_id)

    def _forget_expired(self) -> None:
        now = time.time()
        for jti in [jti for jti, expires in self._tokens.items() if expires < now]:
            del self._tokens[jti]


def account_lookup(client: InternalClient) -> AccountLookup:
    """Ask users_svc for one account (with the internal key)."""
    def look_up(user_id: int) -> dict[str, Any] | None:
        response = client.get(ACCOUNT_PATH.format(user_id=user_id), timeout=5)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        account: dict[str, Any] = response.json()
        return account
    return look_up


class RevocationFeed(LiveFeed):
    """Keeps a RevocationList current: the snapshot each time the queue is bound, then every revocation and user
    event."""

    name = "revocation feed"
    routing_keys = ("auth.#", "user.#")
    # The snapshot comes over HTTP, as JSON.
    reconnect_on = (*LiveFeed.reconnect_on, requests.RequestException, ValueError)

    def __init__(self, revocations: RevocationList, amqp_url: str, topology: Topology,
                 client: InternalClient) -> None:
        super().__init__(amqp_url, topology)
        self.revocations = revocations
        self.client = client

    def on_bound(self) -> None:
        response = self.client.get(SNAPSHOT_PATH)
        response.raise_for_status()
        self.revocations.load_snapshot(response.json())

    def handle(self, event: Event) -> None:
        if event.get("type") in USER_EVENT_TYPES:
            user = read_user_event(event)
            self.revocations.apply_account(user.user_id, user.is_active, user.version)
            return
        revocation = read_revocation(event)
        self.revocations.apply(revocation)
        log.info("token revoked for user %s", revocation.user_id)


def follow_revocations(settings: ServiceSettings, topology: Topology) -> tuple[RevocationList, RevocationFeed]:
    """The list and the feed that keeps it, for a service other than users_svc."""
    client = InternalClient(settings.users_service_url, settings.internal_api_key)
    revocations = RevocationList(account_lookup(client))
    return revocations, RevocationFeed(revocations, settings.amqp_url, topology, client)
