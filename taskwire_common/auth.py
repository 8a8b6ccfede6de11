"""Bearer/Token authentication: verify a JWT locally, refuse revoked tokens, know who is asking.

Tokens are EdDSA (Ed25519) JWTs signed by users_svc alone; every service verifies them with
public keys only (users_svc with its own key ring, the others with its published JWKS), and
accepts no other algorithm: an HS256 token is refused whatever its secret.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, ParamSpec, Protocol, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Response, current_app, g, request

from .errors import problem_response
from .jwks import KeysUnavailable
from .settings import JWTSettings

ACCEPTED_SCHEMES = ("bearer", "token")  # "Token" is what the Django clients send
ALGORITHM = "EdDSA"
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

    def to_json(self) -> dict[str, Any]:
        """The principal as users_svc hands it to the relay for a redeemed WebSocket ticket."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Principal:
        """Raises KeyError, TypeError or ValueError for what to_json() did not make."""
        return cls(user_id=int(data["user_id"]), username=str(data["username"]), role=str(data["role"]),
                   jti=str(data["jti"]), issued_at=int(data["issued_at"]), expires_at=int(data["expires_at"]),
                   token_version=int(data["token_version"]))


class PublicKeys(Protocol):
    """Where a verifier finds the key a token names (users_svc's KeyRing, or a RemoteKeySet)."""

    def public_key(self, kid: str) -> Ed25519PublicKey | None: ...


class TokenVerifier:
    """Checks signature (EdDSA only, with the key the token's `kid` names), expiry, issuer and audience."""

    def __init__(self, settings: JWTSettings, keys: PublicKeys, leeway_seconds: int = 5):
        self.settings = settings
        self.keys = keys
        self.leeway = leeway_seconds
        # A client sends the same token with every request: its signature and claims are checked
        # once (about 8 % of a list request's CPU), its expiry and its key every time (a retired
        # key's tokens stop at once). A refused token is never kept, so a forged one costs a full
        # check each time it is sent.
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify_once)

    def verify(self, token: str) -> Principal:
        """The token's principal; raises InvalidToken, or KeysUnavailable when no key can be had to check it."""
        kid, principal = self._verified(token)
        if principal.expires_at <= time.time() - self.leeway:
            raise InvalidToken("Signature has expired")
        if self.keys.public_key(kid) is None:
            raise InvalidToken(f"key {kid!r} was retired")
        return principal

    def _verify_once(self, token: str) -> tuple[str, Principal]:
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            if header.get("alg") != ALGORITHM or not isinstance(kid, str):
                raise InvalidToken(f"not an {ALGORITHM} token with a key id")
            key = self.keys.public_key(kid)
            if key is None:
                raise InvalidToken(f"no key {kid!r}")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
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
        return kid, principal


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
    """What a service plugs in: how to verify, and how to learn whether a token was revoked (or its user is
    unknown or inactive)."""

    verifier: TokenVerifier
    is_revoked: Callable[[Principal], bool]

    def authenticate(self, token: str) -> Principal:
        return self.admit(self.verifier.verify(token))

    def admit(self, principal: Principal) -> Principal:
        """The principal, if its token is still good: not expired, not revoked, its user known and active."""
        if principal.expires_at <= time.time():
            raise InvalidToken("Signature has expired")
        if self.is_revoked(principal):
            raise InvalidToken("token revoked, or its user unknown or inactive")
        return principal


P = ParamSpec("P")
R = TypeVar("R")


def unauthorized(detail: str) -> Response:
    return problem_response(401, "Unauthorized", detail,
                            headers={"WWW-Authenticate": 'Bearer realm="taskwire"'})


def refusal() -> Response:
    """The answer to a request authenticate_request() found no principal for: 401, or 503 while the keys that
    would verify its token cannot be had."""
    if g.get("auth_unavailable"):
        return problem_response(503, "Service Unavailable", g.auth_error, headers={"Retry-After": "2"})
    return unauthorized(g.auth_error)


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
    except KeysUnavailable as exc:
        current_app.logger.warning("cannot verify tokens: %s", exc)
        g.auth_error, g.auth_unavailable = "Tokens cannot be verified right now; try again shortly.", True
        return None
    g.principal = principal
    g.token = token
    return principal


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if authenticate_request() is None:
            return refusal()
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        principal = authenticate_request()
        if principal is None:
            return refusal()
        if not principal.is_admin:
            return forbidden("Only an admin may do this.")
        return view(*args, **kwargs)

    return wrapper


def current_principal() -> Principal:
    principal: Principal = g.principal  # set by authenticate_request
    return principal
