"""users_svc's token signing keys: Ed25519 private keys in a directory, one file each; the newest signs.

A key file is `<kid>.pem` (PKCS #8, unencrypted, mode 0600). A kid is the UTC time the key
was made and a random suffix (`20261203T160000Z-3f9a1c2e`), so sorting kids sorts keys by age.
Every key in the directory verifies and is published in the JWKS; the newest also signs.
Rotation adds a key: new tokens use it at once, tokens signed by the older ones verify until they
expire. Removing a key's file retires it: its tokens stop verifying (every service drops it from
its key set within JWKS_REFRESH_SECONDS).

The directory is read again whenever it changes (its modification time), so every gunicorn worker
picks up a rotation on its next token without a restart.

Command line (run as the service's user, with the service's environment):
    python -m users_svc.signing_keys rotate          # add a key; it signs from now on
    python -m users_svc.signing_keys list
    python -m users_svc.signing_keys remove <kid>    # retire a key (not the newest)
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

KEY_SUFFIX = ".pem"
KID_FORMAT = "%Y%m%dT%H%M%SZ"


class NoSigningKey(Exception):
    """The key directory is missing, empty or unreadable: users_svc cannot issue tokens."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (RFC 8037): what other services verify with."""
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}


def new_kid(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return f"{now.strftime(KID_FORMAT)}-{secrets.token_hex(4)}"


def read_keys(directory: Path) -> list[SigningKey]:
    """Every key in the directory, oldest first."""
    if not directory.is_dir():
        raise NoSigningKey(f"the signing key directory {directory} does not exist")
    keys = []
    for path in sorted(directory.glob("*" + KEY_SUFFIX)):
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NoSigningKey(f"{path} is not an Ed25519 private key")
        keys.append(SigningKey(path.name[:-len(KEY_SUFFIX)], key))
    if not keys:
        raise NoSigningKey(f"no signing key in {directory}: add one with `make rotate-signing-key`")
    return keys


def add_key(directory: Path) -> SigningKey:
    """Make a new key in the directory (created, mode 0700, if missing); it signs from now on."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = SigningKey(new_kid(), Ed25519PrivateKey.generate())
    pem = key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    # Written under a temporary name and renamed: a worker reading the directory never sees half a key.
    partial = directory / f".{key.kid}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    partial.rename(directory / (key.kid + KEY_SUFFIX))
    return key


def remove_key(directory: Path, kid: str) -> None:
    """Retire a key: tokens it signed stop verifying. The newest key signs, so it cannot be removed."""
    keys = read_keys(directory)
    kids = [key.kid for key in keys]
    if kid not in kids:
        raise NoSigningKey(f"no key {kid!r} in {directory}")
    if kid == kids[-1]:
        raise NoSigningKey(f"{kid} is the key that signs new tokens: rotate first, then remove it")
    (directory / (kid + KEY_SUFFIX)).unlink()


class KeyRing:
    """The keys of a directory, read again when the directory changes."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._seen: int | None = None
        self._keys: dict[str, SigningKey] = {}
        self._signing: SigningKey | None = None
        self.reload()

    def reload(self) -> None:
        """Read the directory if it changed since it was last read; raises NoSigningKey."""
        try:
            changed = self.directory.stat().st_mtime_ns
        except OSError as error:
            raise NoSigningKey(f"the signing key directory {self.directory} cannot be read: {error}") from None
        if changed == self._seen:
            return
        keys = read_keys(self.directory)
        with self._lock:
            self._keys = {key.kid: key for key in keys}
            self._signing = keys[-1]
            self._seen = changed

    @property
    def signing_key(self) -> SigningKey:
        self.reload()
        assert self._signing is not None  # reload() raised otherwise
        return self._signing

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        self.reload()
        key = self._keys.get(kid)
        return key.public_key if key else None

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set (RFC 7517) of every key, newest first."""
        self.reload()
        return {"keys": [key.public_jwk() for key in reversed(list(self._keys.values()))]}


def age_of(kid: str) -> str:
    try:
        made = datetime.strptime(kid.split("-")[0], KID_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return "   age unknown"
    return f"{(time.time() - made.timestamp()) / 86400:6.1f} days old"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m users_svc.signing_keys", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=os.environ.get("JWT_SIGNING_KEY_DIR", ""),
                        help="the key directory (default: $JWT_SIGNING_KEY_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rotate", help="add a key; new tokens are signed with it")
    commands.add_parser("list", help="the keys, oldest first; the last one signs")
    remove = commands.add_parser("remove", help="retire a key: tokens it signed stop verifying")
    remove.add_argument("kid")
    args = parser.parse_args(argv)
    if not args.dir:
        parser.error("set JWT_SIGNING_KEY_DIR or pass --dir")
    directory = Path(args.dir)
    try:
        if args.command == "rotate":
            key = add_key(directory)
            print(f"added signing key {key.kid} in {directory}; new tokens are signed with it")
        elif args.command == "list":
            keys = read_keys(directory)
            for key in keys:
                print(f"{key.kid}  {age_of(key.kid)}{'  (signs)' if key is keys[-1] else ''}")
        else:
            remove_key(directory, args.kid)
            print(f"removed signing key {args.kid}; tokens it signed no longer verify")
    except NoSigningKey as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
