"""users_svc HTTP API: /api/auth/ (login, logout, verify, me, register, user admin)."""
from __future__ import annotations

import orjson
from flask import Response, current_app, request
from flask.views import MethodView
from webargs.flaskparser import abort  # what flask_smorest re-exports as abort, there without its types (NoReturn)

from taskwire_common.auth import admin_required, current_principal, login_required
from taskwire_common.blueprint import ETAG, LOCATION, PAGE_HEADERS, REPLAYED, Blueprint
from taskwire_common.clock import app_clock
from taskwire_common.conditional import Preconditions, read_response, resource_response
from taskwire_common.db import db
from taskwire_common.idempotency import ANONYMOUS, Answer, requested_key, signed_in_caller
from taskwire_common.internal import require_internal_key
from taskwire_common.metrics import LOGIN_FAILURES, LOGINS_THROTTLED
from taskwire_common.pagination import fetch_page, pagination_headers

from . import services, snapshots, tickets
from .models import User
from .schemas import (
    JwksSchema,
    LoginSchema,
    MessageSchema,
    RedeemSchema,
    RegisterSchema,
    RoleSchema,
    TicketSchema,
    TokenSchema,
    UserCreateSchema,
    UserListArgsSchema,
    UserPatchSchema,
    UserSchema,
)
from .throttling import LoginThrottle, LoginThrottled, ThrottleRules, app_sleep
from .tokens import issue_token

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts, tokens and user admin")
internal = Blueprint("internal", __name__, url_prefix="/internal",
                     description="Service-to-service endpoints; the gateway does not route them")
require_internal_key(internal)


def settings():
    return current_app.config["TASKWIRE_SETTINGS"]


def login_throttle() -> LoginThrottle:
    """The throttle of this app's settings, on its clock (tests set TASKWIRE_CLOCK and TASKWIRE_SLEEP)."""
    return LoginThrottle(ThrottleRules.of(settings()), app_clock(), app_sleep())


def throttled(error: LoginThrottled):
    LOGINS_THROTTLED.inc()
    abort(429, message="Too many failed logins; try again later.", headers={"Retry-After": str(error.retry_after)})


def token_response(user: User) -> dict:
    token, expires_in = issue_token(user, settings().jwt, current_app.extensions["users_svc.keys"])
    return {"token": token, "token_type": "Bearer", "expires_in": expires_in, "user": user}


SECRET_FIELDS = ("password",)  # never part of an idempotency key's stored fingerprint


def user_to_change_or_404(user_id: int) -> User:
    """The user, locked for a change the request's If-Match and If-None-Match allow (412 otherwise)."""
    user = services.user_to_change(user_id, Preconditions.of(request))
    if user is None:
        abort(404, message="No user with that id.")
    return user


def user_response(user: User) -> Response:
    return resource_response(services.user_json(user))


def get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, message="No user with that id.")
    return user


def conflict(error: services.Conflict):
    abort(409, message=error.message, errors={error.field: [error.message]})


@blp.route("/login/")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, credentials):
        """Exchange a username and password for a token."""
        try:
            user = services.log_in(credentials["username"], credentials["password"],
                                   request.remote_addr or "unknown", login_throttle())
        except LoginThrottled as error:
            throttled(error)
        except services.InvalidCredentials:
            LOGIN_FAILURES.inc()
            abort(401, message="Unable to log in with the provided credentials.")
        return token_response(user)


@blp.route("/logout/")
class Logout(MethodView):
    decorators = [login_required]

    @blp.response(200, MessageSchema)
    def post(self):
        """Revoke this token in every service and WebSocket."""
        services.revoke_token(current_principal())
        return {"detail": "Logged out."}


@blp.route("/verify/")
class Verify(MethodView):
    decorators = [login_required]

    @blp.response(200, UserSchema)
    def get(self):
        """The user of a valid token; 401 otherwise."""
        return get_user_or_404(current_principal().user_id)


@blp.route("/me/")
class Me(MethodView):
    decorators = [login_required]

    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user."""
        return get_user_or_404(current_principal().user_id)


@blp.route("/register/")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, TokenSchema, headers={"Idempotent-Replayed": REPLAYED})
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.idempotent_create
    def post(self, fields):
        """Sign up as a user (role `user`); answers like login. 403 when registration is closed.

        A retry with the same Idempotency-Key and body answers the same user with a new token (a
        token is never stored)."""
        if not settings().registration_open:
            abort(403, message="Registration is closed.")
        try:
            answer = services.create_user_answer(requested_key(ANONYMOUS, SECRET_FIELDS), fields["username"],
                                                 fields["email"], fields["password"], throttle=login_throttle(),
                                                 address=request.remote_addr or "unknown")
        except services.Conflict as error:
            conflict(error)
        except LoginThrottled as error:  # a replay proves its password like a login
            throttled(error)
        created = orjson.loads(answer.body)
        token = TokenSchema().dump(token_response(get_user_or_404(created["id"])))
        return Answer(answer.status, orjson.dumps({**token, "user": created}), replayed=answer.replayed).response()


@blp.route("/users/")
class Users(MethodView):
    decorators = [admin_required]

    @blp.arguments(UserListArgsSchema, location="query")
    @blp.response(200, UserSchema(many=True), headers=PAGE_HEADERS)
    def get(self, args):
        """Users, filtered by role, is_active and q; paginated."""
        page, page_size = args.pop("page"), args.pop("page_size")
        users, total = fetch_page(services.list_users(**args), page, page_size)
        return users, 200, pagination_headers(total, page, page_size)

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema, headers={"Location": LOCATION, "ETag": ETAG, "Idempotent-Replayed": REPLAYED})
    @blp.idempotent_create
    def post(self, fields):
        """Create a user with any role. An Idempotency-Key makes a retry safe."""
        admin_id = current_principal().user_id
        try:
            answer = services.create_user_answer(requested_key(signed_in_caller(admin_id), SECRET_FIELDS),
                                                 fields["username"], fields["email"], fields["password"],
                                                 fields["role"], actor_id=admin_id)
        except services.Conflict as error:
            conflict(error)
        return answer.response()


@blp.route("/users/<int:user_id>/")
class UserDetail(MethodView):
    decorators = [admin_required]

    @blp.response(200, UserSchema, headers={"ETag": ETAG})
    @blp.conditional_read
    def get(self, user_id):
        """The user, with its version as ETag; If-None-Match with that ETag answers 304."""
        return read_response(services.user_json(get_user_or_404(user_id)), "user", Preconditions.of(request))

    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema, headers={"ETag": ETAG})
    @blp.conditional_write
    def patch(self, changes, user_id):
        """Change username, email, password or is_active; a new password or deactivation revokes tokens.
        If-Match: only from that version."""
        user = user_to_change_or_404(user_id)
        try:
            return user_response(services.update_user(user, changes, actor_id=current_principal().user_id))
        except services.Conflict as error:
            conflict(error)

    @blp.response(204)
    @blp.conditional_write
    def delete(self, user_id):
        """Deactivate the user (their tokens stop working); the account and its history stay.
        If-Match: only at that version."""
        user = user_to_change_or_404(user_id)
        try:
            services.deactivate_user(user, actor_id=current_principal().user_id)
        except services.Conflict as error:
            conflict(error)


@blp.route("/users/<int:user_id>/role/")
class UserRole(MethodView):
    decorators = [admin_required]

    @blp.arguments(RoleSchema)
    @blp.response(200, UserSchema, headers={"ETag": ETAG})
    @blp.conditional_write
    def put(self, fields, user_id):
        """Make the user an admin or a user; their existing tokens are revoked. If-Match: only from that version."""
        user = user_to_change_or_404(user_id)
        try:
            return user_response(services.change_role(user, fields["role"], actor_id=current_principal().user_id))
        except services.Conflict as error:
            conflict(error)


@blp.route("/ws-ticket/")
class WsTicket(MethodView):
    decorators = [login_required]

    @blp.response(200, TicketSchema)
    def post(self):
        """A single-use ticket, valid 30 s, for opening a WebSocket (`?ticket=`) without a token in its URL."""
        return {"ticket": tickets.issue_ticket(current_principal()), "expires_in": tickets.TICKET_SECONDS}


@blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @blp.response(200, JwksSchema)
    def get(self):
        """The public keys that verify tokens (RFC 7517), newest first; a token names its key in `kid`."""
        return current_app.extensions["users_svc.keys"].jwks(), 200, {"Cache-Control": "public, max-age=60"}


@internal.route("/revocations/")
class Revocations(MethodView):
    def get(self):
        """Every revocation in force, for services that start or reconnect."""
        return snapshots.revocation_snapshot()


@internal.route("/users/")
class Directory(MethodView):
    def get(self):
        """Every user (id, username, role, is_active, version), for services that keep a directory."""
        return snapshots.directory_snapshot()


@internal.route("/users/<int:user_id>/")
class Account(MethodView):
    def get(self, user_id):
        """One account as the services' revocation lists hold it (a token names a user they have not heard of)."""
        account = snapshots.account(user_id)
        if account is None:
            abort(404, message="No such user.")
        return account


@internal.route("/ws-tickets/redeem/")
class RedeemTicket(MethodView):
    @internal.arguments(RedeemSchema)
    def post(self, fields):
        """The principal a WebSocket ticket stands for, once; 404 for an unknown, used or expired ticket."""
        principal = tickets.redeem_ticket(fields["ticket"])
        if principal is None:
            abort(404, message="No such ticket, or it was used or expired.")
        return principal.to_json()
