"""Helpers every test layer imports: waiting for a condition, requests sent at once, auth headers, tokens."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from harness.api import bearer
from harness.wait import poll

__all__ = ["asyncapi_payload_errors", "at_once", "bearer", "make_token", "it_jwks_file", "it_key_dir", "wait_for"]

TEST_KEY_DIR = Path(__file__).resolve().parent.parent / "var" / "it" / "signing-keys"


def next_page(response) -> str | None:
    """The URL a list answer's Link header names as rel="next", or None."""
    links = requests.utils.parse_header_links(response.headers.get("Link", ""))
    return next((link["url"] for link in links if link.get("rel") == "next"), None)


def walk_pages(client, url: str, headers: dict) -> list[tuple[list[dict], int]]:
    """Every page of a list from `url` on, by following rel="next": each page's items and the total it reported.
    rel="next" must never name an empty page."""
    pages: list[tuple[list[dict], int]] = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.json, url
        pages.append((response.json, int(response.headers["X-Total-Count"])))
        url = next_page(response)
        assert len(pages) <= 100, "rel=\"next\" never ends"
    return pages


def wait_for(condition, timeout: float = 5.0, interval: float = 0.02, message: str = "condition"):
    """Poll until condition() is truthy and return its value; fail the test at the deadline."""
    value = poll(condition, timeout, interval)
    if not value:
        pytest.fail(f"timed out after {timeout} s waiting for {message}")
    return value


def asyncapi_payload_errors(document: dict, message: str, instance: object) -> list[str]:
    """Where `instance` breaks the payload schema of `components.messages[message]` of an AsyncAPI document.

    Its payloads refer to `#/components/schemas/...`, so they are checked with the document's
    components at the root; the schemas keep to what draft-07 and 2020-12 read alike."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator({"components": document["components"],
                                      "$ref": f"#/components/messages/{message}/payload"})
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(instance)]


def at_once(count: int, request):
    """request(number) from `count` threads released together, for races; the answers in number order."""
    start = threading.Barrier(count)

    def send(number):
        start.wait()
        return request(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(send, range(count)))


def it_key_dir() -> Path:
    """The integration tests' token signing keys (made on first use): what their users_svc signs with and what
    make_token signs with; it_jwks_file() holds their public halves for the other services."""
    from users_svc.signing_keys import KEY_SUFFIX, add_key

    if not TEST_KEY_DIR.is_dir() or not any(TEST_KEY_DIR.glob("*" + KEY_SUFFIX)):
        add_key(TEST_KEY_DIR)
    return TEST_KEY_DIR


def it_jwks_file() -> Path:
    """A JWKS file (what JWKS_FILE names) with the public keys of it_key_dir(), written each time it is asked for."""
    import json

    from users_svc.signing_keys import KeyRing

    path = TEST_KEY_DIR.parent / "jwks.json"
    path.write_text(json.dumps(KeyRing(it_key_dir()).jwks()))
    return path


def make_token(user_id: int, username: str, role: str = "user", token_version: int = 0,
               key_dir: Path | None = None) -> str:
    """A token as users_svc would sign it with the newest key of `key_dir` (the integration tests' keys by default),
    for tests of other services."""
    import uuid

    import jwt

    from taskwire_common.auth import ALGORITHM
    from taskwire_common.settings import read_jwt_settings
    from users_svc.signing_keys import KeyRing

    settings = read_jwt_settings("")
    key = KeyRing(key_dir or it_key_dir()).signing_key
    now = int(time.time())
    claims = {"iss": settings.issuer, "aud": settings.audience, "sub": str(user_id), "username": username,
              "role": role, "tv": token_version, "jti": uuid.uuid4().hex, "iat": now,
              "exp": now + settings.ttl_seconds}
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
