"""Taskwire's HTTP API as the tools use it through a gateway: sign-in, sign-up, health, paged lists."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from stack import health
from stack.config import Profile

TIMEOUT = 30.0


@dataclass
class Person:
    """Someone signed in: who they are and the token they act with."""

    id: int
    username: str
    token: str
    is_admin: bool


def bearer(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def login_response(gateway: str, username: str, password: str, timeout: float = TIMEOUT) -> requests.Response:
    return requests.post(f"{gateway}/api/auth/login/", json={"username": username, "password": password},
                         timeout=timeout)


def login(gateway: str, username: str, password: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The login answer ({token, user, ...}); raises unless the login succeeded."""
    response = login_response(gateway, username, password, timeout)
    response.raise_for_status()
    return response.json()


def register_response(gateway: str, username: str, password: str, timeout: float = TIMEOUT) -> requests.Response:
    """Self sign-up (the profile must allow it); the answer carries the user and a token."""
    return requests.post(f"{gateway}/api/auth/register/", timeout=timeout, json={
        "username": username, "email": f"{username}@example.com", "password": password})


def register(gateway: str, username: str, password: str, timeout: float = TIMEOUT) -> Person:
    response = register_response(gateway, username, password, timeout)
    response.raise_for_status()
    body = response.json()
    return Person(body["user"]["id"], username, body["token"], False)


def healthy(profile: Profile) -> bool:
    """Every service answers its health check through the profile's gateway."""
    return not health.unhealthy(profile)


def notification_pages(gateway: str, token: str, timeout: float = TIMEOUT) -> Iterator[list[dict[str, Any]]]:
    """Every page of a user's notifications, 100 at a time; raises on a failed request."""
    page = 1
    while True:
        response = requests.get(f"{gateway}/api/notifications/", params={"page": page, "page_size": 100},
                                headers=bearer(token), timeout=timeout)
        response.raise_for_status()
        yield response.json()
        if 'rel="next"' not in response.headers.get("Link", ""):
            return
        page += 1
