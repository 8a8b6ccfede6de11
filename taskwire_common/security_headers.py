"""Headers on every service answer: `nosniff` always, `no-store` on the answer to a request that carried credentials."""
from __future__ import annotations

from flask import Flask, Request, Response, request

# Query parameters that carry a credential: a WebSocket handshake's token, or its single-use ticket.
CREDENTIAL_PARAMETERS = frozenset({"token", "ticket"})


def carries_credentials(req: Request) -> bool:
    """Whether the request carried a credential, in its Authorization header or in its URL."""
    return "Authorization" in req.headers or any(name.lower() in CREDENTIAL_PARAMETERS for name in req.args)


def add_security_headers(response: Response, req: Request) -> Response:
    """nosniff: a browser never runs a JSON answer as a script or a page. no-store: no browser or proxy cache
    keeps what one person's credentials opened, unless the view chose its own Cache-Control. A 304 still
    answers a conditional GET: no-store asks caches not to keep the answer, the ETag works as before."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if "Cache-Control" not in response.headers and carries_credentials(req):
        response.headers["Cache-Control"] = "no-store"
    return response


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def secure_answer(response: Response) -> Response:
        return add_security_headers(response, request)
