"""The flask-smorest Blueprint every service uses: input errors are 400s naming the field, and the
conditional-request and Idempotency-Key headers documented once for every operation that takes them.

Every operation also gets an `operationId` (`<method><ViewClass>`, e.g. `getTaskList`), and every one
behind login_required or admin_required the security schemes it takes and the 401 (and 403, and the
503 of a service that cannot get the token keys) it may answer: read off the view's decorators, so
the document cannot disagree with the code."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
import marshmallow as ma
from flask.views import MethodView

from .auth import admin_required, login_required
from .errors import ProblemSchema, StrictParser
from .idempotency import KEY_HEADER, MAX_KEY_LENGTH, VALID_KEY_PATTERN

F = TypeVar("F", bound=Callable[..., Any])

ETAG = {"description": "The resource's version as a strong entity tag (`\"3\"`)", "schema": {"type": "string"}}
LOCATION = {"description": "The created resource's path", "schema": {"type": "string"}}
# The headers of every paginated list (taskwire_common/pagination.py).
PAGE_HEADERS = {
    "X-Total-Count": {"description": "How many items match the filters, over all pages: exact up to 1,000, "
                                     "PostgreSQL's estimate past that (then X-Total-Count-Estimated is sent)",
                      "schema": {"type": "integer"}},
    "X-Total-Count-Estimated": {"description": "`true` when X-Total-Count is an estimate (past 1,000)",
                                "schema": {"type": "string", "enum": ["true"]}},
    "Link": {"description": "The neighbouring pages (RFC 8288): rel first, prev, next, last",
             "schema": {"type": "string"}},
}
BODY_METHODS = {"POST", "PUT", "PATCH"}
REPLAYED = {"description": "`true` when this is the stored answer to an earlier request with the same "
                           f"{KEY_HEADER}", "schema": {"type": "string", "enum": ["true"]}}
IF_MATCH = {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
            "description": "Apply only if the resource is at one of these versions (ETags, or `*`); "
                           "otherwise 412 and nothing changes"}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                 "description": "For GET: 304 when the resource is still at this version. For a write: "
                                "412 when it is (`*`: when it exists)"}
# Either header form: `Authorization: Bearer <jwt>`, or `Authorization: Token <jwt>` as the Django clients send.
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"tokenAuth": []}]
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "tokenAuth": {"type": "apiKey", "in": "header", "name": "Authorization",
                  "description": "`Token <jwt>`: the same token, as clients of the Django system send it"},
}
IDEMPOTENCY_KEY = {"in": "header", "name": KEY_HEADER, "required": False,
                   "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                              "pattern": VALID_KEY_PATTERN},
                   "description": "A key of the client's (a UUID, say): a retry with the same key and body "
                                 "within 24 h answers the first answer again and creates nothing"}


class PreconditionFailedSchema(ProblemSchema):
    """The 412 body: the resource as it is now, for the client to merge its change with."""

    current_version = ma.fields.Integer(metadata={"example": 5})
    current = ma.fields.Dict(metadata={"description": "the resource as it is now",
                                       "example": {"id": 42, "title": "Fix login", "version": 5}})


# flask-smorest ships no type information (no py.typed, no stub package): its classes are Any to mypy.
class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictParser()

    def _store_endpoint_docs(self, endpoint: str, obj: Any, parameters: Any, tags: Any, **options: Any) -> None:
        """flask-smorest's own, after documenting each method's operationId and security (see the module)."""
        if isinstance(obj, type) and issubclass(obj, MethodView):
            decorators = getattr(obj, "decorators", ())
            guard = admin_required if admin_required in decorators else (
                login_required if login_required in decorators else None)
            for method in sorted(obj.methods or ()):
                function = getattr(obj, method.lower())
                function._apidoc = self._operation_doc(function, method, obj.__name__, guard)._apidoc
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)

    def _operation_doc(self, view: F, method: str, view_class: str, guard: Callable[..., Any] | None) -> F:
        view = self.doc(operationId=f"{method.lower()}{view_class}")(view)
        responses: dict[int, Any] = {}
        if method in BODY_METHODS:  # register_body_checks in app_factory.py answers these before the view
            responses.update({413: "REQUEST_ENTITY_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"})
        if guard is None:
            return self._documented(view, [], responses)
        responses.update({401: "UNAUTHORIZED", 503: "SERVICE_UNAVAILABLE"})
        if guard is admin_required:
            responses[403] = "FORBIDDEN"
        secured: F = self.doc(security=SECURITY)(view)
        return self._documented(secured, [], responses)

    def _documented(self, view: F, parameters: list[dict[str, Any]], responses: dict[int, Any]) -> F:
        view = self.doc(parameters=parameters)(view)
        for status, response in responses.items():
            if isinstance(response, str):
                view = self.alt_response(status, response=response)(view)
            else:
                view = self.alt_response(status, **response)(view)
        return view

    def conditional_read(self, view: F) -> F:
        """Document a GET of a versioned resource: If-Match and If-None-Match, 304 and 412."""
        return self._documented(view, [IF_MATCH, IF_NONE_MATCH], {
            304: {"description": "Not Modified: the client's copy is current", "headers": {"ETag": ETAG}},
            404: "NOT_FOUND",
            412: {"schema": PreconditionFailedSchema, "content_type": "application/problem+json",
                  "headers": {"ETag": ETAG}}})

    def conditional_write(self, view: F) -> F:
        """Document a PUT, PATCH or DELETE of a versioned resource: If-Match and If-None-Match, 412."""
        return self._documented(view, [IF_MATCH, IF_NONE_MATCH], {
            404: "NOT_FOUND",
            412: {"schema": PreconditionFailedSchema, "content_type": "application/problem+json",
                  "headers": {"ETag": ETAG}}})

    def idempotent_create(self, view: F) -> F:
        """Document a create that takes an Idempotency-Key: 409 while the first runs, 422 for another body."""
        return self._documented(view, [IDEMPOTENCY_KEY], {409: "CONFLICT", 422: "UNPROCESSABLE_ENTITY"})

