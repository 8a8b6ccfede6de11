"""The request id: taken from the gateway's X-Request-ID (or made here), logged, echoed, carried into events."""
from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import urlencode

from flask import Flask, Response, g, request

from .security_headers import CREDENTIAL_PARAMETERS

HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SLOW_REQUEST_MS = 500  # a request this slow is logged at INFO however it ended


def current_request_id() -> str | None:
    request_id: str | None = g.get("request_id")
    return request_id


def loggable_path() -> str:
    """The path and query, with a credential (a WebSocket handshake's ?token= or ?ticket=) masked."""
    if not any(name.lower() in CREDENTIAL_PARAMETERS for name in request.args):
        return request.full_path.rstrip("?")
    query = urlencode([(name, "***" if name.lower() in CREDENTIAL_PARAMETERS else value)
                       for name, value in request.args.items(multi=True)])
    return f"{request.path}?{query}"


def register_request_id(app: Flask, logger: logging.Logger) -> None:
    @app.before_request
    def take_request_id() -> None:
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_and_echo_request_id(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[HEADER] = request_id
        elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        level = request_line_level(response.status_code, elapsed_ms)
        if logger.isEnabledFor(level):
            logger.log(level, "%s %s %s %.1fms request_id=%s", request.method, loggable_path(),
                       response.status_code, elapsed_ms, request_id)
        return response


def request_line_level(status: int, elapsed_ms: float) -> int:
    """INFO for a request that failed (4xx, 5xx) or was slow, DEBUG for the rest.

    Writing a line for every request cost about a tenth of a list request's CPU (the app's write,
    then supervisord's or Docker's copy). The gateway's access log has every request with the same
    request id; at INFO the service adds what is worth a look, at DEBUG (the dev and test stacks) everything.
    """
    return logging.INFO if status >= 400 or elapsed_ms >= SLOW_REQUEST_MS else logging.DEBUG
