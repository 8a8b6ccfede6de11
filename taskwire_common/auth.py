"""Bearer/Token authentication: verify a JWT locally, refuse revoked tokens, know who is asking."""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Callable, ParamSpec, TypeVar

import jwt
from flask import Response, current_app, g, request

from .errors import problem_response
from .settings import JWTSettings

ACCEPTED_SCHEMES = ("bearer", "token")  # "Token" is what the Django clients send
REQUIRED_CLAIMS = ["exp", "iat", "jti", "iss", "aud", "sub", "tv"]
ROLES = ("admin", "user")
VERIFIED_TOKENS_KEPT = 4096  # per process; a few MB at most


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, for logs only."""


@dataclass(frozen=True)
class Principal:
    """The user a verified token speaks for."""

    user_id: int
    username: str
    role: str
    jti: str
    issued_at: int
    expires_at: int
    token_version: int  # the user's token version at issue; raising it revokes older tokens

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class TokenVerifier:
    """Checks signature, algorithm, expiry, issuer and audience with a fixed algorithm list."""

    def __init__(self, settings: JWTSettings, leeway_seconds: int = 5):
        self.settings = settings
        self.leeway = leeway_seconds
        # A client sends the same token with every request: its signature and claims are checked
        # once (about 8 % of a list request's CPU), its expiry every time. A refused token is
        # never kept, so a forged one costs a full check each time it is sent.
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify_once)

    def verify(self, token: str) -> Principal:
        principal = self._verified(token)
        if principal.expires_at <= time.time() - self.leeway:
            raise InvalidToken("Signature has expired")
        return principal

    def _verify_once(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.settings.secret_key,
                algorithms=[self.settings.algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS},
            )
            principal = Principal(
                user_id=int(claims["sub"]),
                username=str(claims["username"]),
                role=str(claims["role"]),
                jti=str(claims["jti"]),
                issued_at=int(claims["iat"]),
                expires_at=int(claims["exp"]),
                token_version=int(claims["tv"]),
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken(f"malformed claims: {exc}") from exc
        if principal.role not in ROLES:
            raise InvalidToken(f"unknown role {principal.role!r}")
        return principal


def token_from_authorization(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <jwt>` or `Authorization: Token <jwt>` header."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ACCEPTED_SCHEMES or not token.strip():
        return None
    return token.strip()


@dataclass
class Authenticator:
    """What a service plugs in: how to verify, and how to learn whether a token was revoked."""

    verifier: TokenVerifier
    is_revoked: Callable[[Principal], bool]

    def authenticate(self, token: str) -> Principal:
        principal = self.verifier.verify(token)
        if self.is_revoked(principal):
            raise InvalidToken("token revoked")
        return principal


P = ParamSpec("P")
R = TypeVar("R")


def unauthorized(detail: str) -> Response:
    return problem_response(401, "Unauthorized", detail,
                            headers={"WWW-Authenticate": 'Bearer realm="taskwire"'})


def forbidden(detail: str = "You do not have permission to do this.") -> Response:
    return problem_response(403, "Forbidden", detail)


def authenticate_request() -> Principal | None:
    """The principal of this request, or None; the reason for a refusal is kept in g."""
    token = token_from_authorization(request.headers.get("Authorization"))
    if token is None:
        g.auth_error = "Authentication credentials were not provided."
        return None
    authenticator: Authenticator = current_app.extensions["taskwire.auth"]
    try:
        principal = authenticator.authenticate(token)
    except InvalidToken as exc:
        current_app.logger.info("rejected token: %s", exc)
        g.auth_error = "Invalid or expired token."
        return None
    g.principal = principal
    g.token = token
    return principal


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if authenticate_request() is None:
            return unauthorized(g.auth_error)
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        principal = authenticate_request()
        if principal is None:
            return unauthorized(g.auth_error)
        if not principal.is_admin:
            return forbidden("Only an admin may do this.")
        return view(*args, **kwargs)

    return wrapper


def current_principal() -> Principal:
    principal: Principal = g.principal  # set by authenticate_request
    return principal
