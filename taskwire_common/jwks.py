"""The public keys that verify tokens, for every service but users_svc: users_svc's JWKS, fetched and cached.

Fetched at the first token (and by the health check), again when a token names a key id the set
does not hold (a rotation), and every JWKS_REFRESH_SECONDS (a removed key stops verifying).
A key id the set does not hold costs at most one fetch per MIN_FETCH_INTERVAL per process,
however many tokens name unknown ids: a request that came in while a fetch was on its way takes
the key from it if it has it, and otherwise waits for the next fetch, which tells it whether the
key exists. Only Ed25519 keys are taken.

The set can also come from a file (JWKS_FILE, the same JSON), for a deployment that configures
public keys rather than fetching them.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)

MIN_FETCH_INTERVAL = 1.0  # seconds between two fetches of the set, per process
FETCH_TIMEOUT = 5.0


class KeysUnavailable(Exception):
    """The key set could not be fetched and none is cached: tokens cannot be verified now."""


def parse_jwks(document: Any) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 public keys of a JWKS document, by kid (keys of another type, or without a kid, are left out)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("a JWKS document is an object with a list of keys")
    keys = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        key = jwt.PyJWK.from_dict(entry, algorithm="EdDSA").key
        if isinstance(key, Ed25519PublicKey):
            keys[kid] = key
    return keys


def fetch_from_url(url: str) -> Callable[[], Any]:
    def fetch() -> Any:
        response = requests.get(url, timeout=FETCH_TIMEOUT)
        response.raise_for_status()
        return response.json()
    return fetch


def read_from_file(path: Path) -> Callable[[], Any]:
    return lambda: json.loads(path.read_text())


class RemoteKeySet:
    """Public keys by kid, from a JWKS fetched and cached as the module says."""

    def __init__(self, fetch: Callable[[], Any], refresh_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._fetch = fetch
        self.refresh_seconds = refresh_seconds
        self._clock, self._sleep = clock, sleep
        self._keys: dict[str, Ed25519PublicKey] | None = None  # None until the first fetch succeeds
        self._fetch_started = float("-inf")  # when the last fetch began (successful or not)
        self._fetched_at = float("-inf")  # when the last successful fetch began
        self._lock = threading.Lock()  # one fetch at a time (a gevent lock under gunicorn's workers)
        self.last_error = "not fetched yet"

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The key with this id; None if the set, fetched after this call began, has no such key.
        Raises KeysUnavailable when no set could ever be fetched."""
        asked_at = self._clock()
        if (key := self._fresh_key(kid, asked_at)) is not None:
            return key
        with self._lock:
            # A fetch that was on its way when this call began may have brought the key: then it is
            # as fresh as any (waiting for the next fetch, one interval later, stalled every request
            # that came in during a worker's first fetch or a refresh by up to a second).
            if (key := self._fresh_key(kid, asked_at)) is not None:
                return key
            if self._fetch_started <= asked_at:  # no fetch began after this call did: make one
                self._refresh()
            keys = self._keys
        if keys is None:
            raise KeysUnavailable(self.last_error)
        return keys.get(kid)

    def _fresh_key(self, kid: str, asked_at: float) -> Ed25519PublicKey | None:
        """The key, from a set fetched less than refresh_seconds before `asked_at`; else None."""
        keys = self._keys
        if keys is not None and kid in keys and asked_at - self._fetched_at < self.refresh_seconds:
            return keys[kid]
        return None

    def health(self) -> tuple[bool, object]:
        if self._keys is None:
            with self._lock:
                if self._keys is None and self._clock() - self._fetch_started >= MIN_FETCH_INTERVAL:
                    self._refresh()
        if self._keys is None:
            return False, self.last_error
        return True, {"keys": len(self._keys)}

    def _refresh(self) -> None:
        """Fetch the set (at most once per MIN_FETCH_INTERVAL); a failed fetch keeps the keys already held."""
        wait = self._fetch_started + MIN_FETCH_INTERVAL - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._fetch_started = started = self._clock()
        try:
            keys = parse_jwks(self._fetch())
        except (requests.RequestException, OSError, ValueError, jwt.PyJWTError) as error:
            self.last_error = f"the token keys could not be fetched: {type(error).__name__}: {error}"
            log.warning("%s", self.last_error)
            return
        if keys != self._keys:
            log.info("token keys now: %s", ", ".join(sorted(keys)) or "none")
        self._keys, self._fetched_at, self.last_error = keys, started, ""
