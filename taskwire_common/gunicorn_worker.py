"""gunicorn's gevent worker, answering what gunicorn refuses itself as problem details, never as its HTML page.

gunicorn reads the request line and the header fields before any Flask code runs, and answers a request
it cannot parse in `Worker.handle_error`. This subclass keeps gunicorn's statuses but sends the RFC 9457
body every other error of a service has (taskwire_common/errors.py), with 431 for header fields too many
or too large. Written against gunicorn 27.0.1 (`gunicorn/workers/base.py`): `handle_error` is the one
method replaced, and it uses only the public `util.write_nonblock` to send.
"""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.ggevent import GeventWorker

PROBLEM_MIMETYPE = "application/problem+json"  # as errors.py's, which imports Flask (the master never does)


@dataclass(frozen=True)
class Refusal:
    """What a client is told about a request gunicorn refused: the same words whatever the request held."""

    status: int
    title: str
    detail: str

    def problem(self) -> dict[str, object]:
        return {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail}

    def http_response(self) -> bytes:
        """The whole answer; the connection closes after it, as gunicorn's own does (the stream may be garbage)."""
        body = json.dumps(self.problem()).encode()
        head = (f"HTTP/1.1 {self.status} {self.title}\r\n"
                "Connection: close\r\n"
                f"Content-Type: {PROBLEM_MIMETYPE}\r\n"
                f"Content-Length: {len(body)}\r\n"
                "X-Content-Type-Options: nosniff\r\n"
                "\r\n")
        return head.encode("latin-1") + body


SERVER_ERROR = Refusal(500, "Internal Server Error", "The server could not complete the request.")
BAD_REQUEST = Refusal(400, "Bad Request", "The request could not be parsed.")

# The exceptions gunicorn's parser raises, most specific first (an InvalidResponseHeader is an InvalidHeader).
# A detail never repeats the request's bytes: they may hold a token, and they would go back into a log.
REFUSALS: tuple[tuple[tuple[type[BaseException], ...], Refusal], ...] = (
    # A header the application tried to send, or a setting: the server's fault. types-gunicorn 26.2
    # predates the two response-header exceptions.
    ((errors.InvalidResponseHeader, errors.InvalidResponseHeaderName,  # type: ignore[attr-defined]
      errors.ConfigurationProblem), SERVER_ERROR),
    ((errors.LimitRequestHeaders,),
     Refusal(431, "Request Header Fields Too Large", "The request has too many header fields, or too large ones.")),
    ((errors.LimitRequestLine,), Refusal(414, "URI Too Long", "The request line is too long.")),
    ((errors.InvalidRequestLine, errors.InvalidRequestMethod, errors.InvalidHTTPVersion),
     Refusal(400, "Bad Request", "The request line could not be parsed.")),
    ((errors.InvalidHeader, errors.InvalidHeaderName, errors.ObsoleteFolding, errors.InvalidSchemeHeaders),
     Refusal(400, "Bad Request", "A header field could not be parsed.")),
    ((errors.InvalidChunkSize, errors.ChunkMissingTerminator, errors.InvalidChunkExtension),
     Refusal(400, "Bad Request", "The chunked request body could not be parsed.")),
    ((errors.UnsupportedTransferCoding,),
     Refusal(501, "Not Implemented", "The transfer coding of the request is not supported.")),
    ((errors.ExpectationFailed,), Refusal(417, "Expectation Failed", "Only Expect: 100-continue is supported.")),
    ((errors.ForbiddenProxyRequest,), Refusal(403, "Forbidden", "This address may not send a PROXY header.")),
    ((errors.ParseException,), BAD_REQUEST),
)


def refusal_for(exc: BaseException) -> Refusal | None:
    """The answer to a request gunicorn could not parse; None for anything else (a server error)."""
    for kinds, refusal in REFUSALS:
        if isinstance(exc, kinds):
            return refusal
    return None


class ProblemGeventWorker(GeventWorker):
    """gunicorn's gevent worker; see the module docstring. `worker_class` in gunicorn_conf.py names it."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        refusal = refusal_for(exc)
        peer = addr[0] if addr else "unix socket"
        if refusal is None:
            # Only the path: the query of a WebSocket handshake may carry a token.
            self.log.exception("Error handling request %s", getattr(req, "path", "(no request line read)"))
            refusal = SERVER_ERROR
        elif refusal.status >= 500:
            self.log.error("Refused a request from %s: %s", peer, type(exc).__name__)
        else:
            # The exception's name, not its text: that quotes the request line or a header, token included.
            self.log.warning("Refused a request from %s with %d: %s", peer, refusal.status, type(exc).__name__)
        try:
            util.write_nonblock(client, refusal.http_response())
        except Exception:  # the client may be gone; gunicorn's own writer is as forgiving
            self.log.debug("Failed to send the %d problem", refusal.status)
