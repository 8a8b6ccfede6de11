"""Service-to-service calls: users_svc's /internal/ endpoints answer only a caller that shows the internal key.

The key (INTERNAL_API_KEY) is a secret every service holds and no client does; it travels in a
header of its own, is compared in constant time, and is never logged. The gateway does not route
/internal/ at all, so from outside it stays unreachable whatever the key.
"""
from __future__ import annotations

import hmac
from typing import Any

import requests
from flask import Blueprint, Response, current_app, request

from .errors import problem_response

HEADER = "X-Internal-Key"
TIMEOUT_SECONDS = 10.0


def require_internal_key(blueprint: Blueprint) -> None:
    """Refuse (401) every request to the blueprint's routes that does not carry the internal key."""

    @blueprint.before_request
    def check_internal_key() -> Response | None:
        expected = current_app.config["TASKWIRE_SETTINGS"].internal_api_key.encode()
        shown = request.headers.get(HEADER, "").encode()
        if hmac.compare_digest(shown, expected):
            return None
        return problem_response(401, "Unauthorized", "This endpoint is for Taskwire's services only.")


class InternalClient:
    """Calls users_svc's /internal/ endpoints with the internal key."""

    def __init__(self, users_service_url: str, internal_api_key: str):
        self.base_url = users_service_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers[HEADER] = internal_api_key

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=kwargs.pop("timeout", TIMEOUT_SECONDS), **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base_url + path, timeout=kwargs.pop("timeout", TIMEOUT_SECONDS), **kwargs)
