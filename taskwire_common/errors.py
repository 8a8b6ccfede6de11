"""One error shape for every service: RFC 9457 problem details, never a stack trace."""
from __future__ import annotations

import functools
import http
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Request, Response, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from sqlalchemy.exc import OperationalError
from webargs.flaskparser import FlaskParser, abort as webargs_abort
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"


def problem_response(status: int, title: str, detail: str | None = None,
                     errors: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                     extensions: Mapping[str, Any] | None = None) -> Response:
    """A problem details answer; `extensions` are members of the problem type's own (RFC 9457 §3.2)."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_errors(messages: Mapping[str, Any]) -> dict[str, Any]:
    """webargs nests errors under the location ("json", "query"); clients want the field names."""
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat["body" if location == "json" else location] = fields
    return flat


def describe_errors(errors: Mapping[str, Any]) -> str:
    if set(errors) == {"body"} and isinstance(errors["body"], list):
        return " ".join(errors["body"])
    names = ", ".join(sorted(str(name) for name in errors))
    return f"Invalid value for: {names}." if names else "Invalid request."


def http_exception_response(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or (flatten_errors(data["messages"]) if "messages" in data else None)
    detail = data.get("message")
    if detail is None and errors:
        detail = describe_errors(errors)
    if detail is None:
        detail = error.description
    headers = dict(data.get("headers") or {})
    # MethodNotAllowed carries them; the base class declares no such attribute.
    valid_methods: Iterable[str] | None = getattr(error, "valid_methods", None)
    if valid_methods:
        headers.setdefault("Allow", ", ".join(valid_methods))
    return problem_response(error.code or 500, error.name, detail, errors, headers)


class ProblemSchema(ma.Schema):
    """The error body, as documented in the OpenAPI document."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(metadata={"example": "Bad Request"})
    status = ma.fields.Integer(metadata={"example": 400})
    detail = ma.fields.String(metadata={"example": "The request's JSON body is not valid."})
    errors = ma.fields.Dict(metadata={"description": "messages by field or parameter name",
                                      "example": {"priority": ["Must be one of: low, medium, high."]}})


# flask-smorest ships no type information (no py.typed, no stub package): its classes are Any to mypy.
class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, answering every error as problem details, and documenting them so."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def _register_pagination_header(self) -> None:
        """None: Taskwire pages with X-Total-Count and Link (pagination.py), never flask-smorest's X-Pagination,
        so its header and schema would only mislead a reader of the document."""

    def _register_responses(self) -> None:
        """flask-smorest's component responses, with the content type errors really have."""
        for status in http.HTTPStatus:
            response: dict[str, object] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIMETYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


UNSTORABLE_TEXT = "Must not contain NUL characters or unpaired surrogates."
MISSING_BODY = "A JSON request body is required."
# For free-text fields: says in the OpenAPI document that NUL is refused (StrictParser refuses it
# anywhere). Lone surrogates need no word there: they have no UTF-8 form, so no valid JSON text holds one.
STORABLE_TEXT = ma.validate.Regexp(r"^[^\x00]*$", error=UNSTORABLE_TEXT)


def is_storable_text(value: str) -> bool:
    """PostgreSQL text holds neither NUL nor lone surrogates; such input is the client's error."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_unstorable_text(value: object, name: str | None = None) -> str | None:
    """The name of the first field (top-level key) whose text, at any depth, cannot be stored."""
    if isinstance(value, str):
        return None if is_storable_text(value) else (name or "body")
    if isinstance(value, dict):
        for key, item in value.items():
            field = name or str(key)
            if isinstance(key, str) and not is_storable_text(key):
                return field if name else "body"
            found = find_unstorable_text(item, field)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = find_unstorable_text(item, name)
            if found:
                return found
    return None


KEPT_QUERY_BYTES = 256  # StrictParser.parse keeps the parsed arguments of query strings up to this long


class StrictParser(FlaskParser):
    """Invalid input is a 400 naming the field; no JSON document or query string can crash a service."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Request) -> Any:
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            webargs_abort(400, messages={"json": ["JSON nested too deeply."]})
        field = find_unstorable_text(data)
        if field:
            webargs_abort(400, messages={"json": {field: [UNSTORABLE_TEXT]}})
        return data

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        # A view that takes a body documents it as required; no body at all is not an empty change.
        data = super().load_json(req, schema)
        if data is ma.missing:
            webargs_abort(400, messages={"json": [MISSING_BODY]})
        return data

    # An unknown query parameter is refused like an unknown body field: never silently ignored.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE,
                                   "querystring": ma.RAISE}

    def parse(self, argmap: Any, req: Request | None = None, *, location: str | None = None,
              validate: Any = None, error_headers: Any = None, **options: Any) -> Any:
        """A query string is parsed once per schema and exact query string, then read from memory.

        A client polls a list with the same query string again and again, and parsing it through the
        schema was about 8 % of a list request's CPU. What is kept is the parsed arguments, never a
        failure: a bad query string is parsed (and refused) every time. Only query strings of up to
        KEPT_QUERY_BYTES are kept, 1,024 at most, the least recently used going first: a client sending
        long or ever new ones (a filter of a thousand ids) costs the parse, never memory. Each call gets
        its own copy: a view may change its arguments.
        """
        query_string = (req or request).query_string
        if (location not in ("query", "querystring") or not isinstance(argmap, ma.Schema) or validate
                or error_headers or len(query_string) > KEPT_QUERY_BYTES):
            return super().parse(argmap, req, location=location, validate=validate, error_headers=error_headers,
                                 **options)
        parsed = self._parsed_query(argmap, query_string, location, tuple(options.items()))
        return {name: list(value) if isinstance(value, list) else value for name, value in parsed.items()}

    @functools.lru_cache(maxsize=1024)  # noqa: B019  # the parser lives as long as the process
    def _parsed_query(self, schema: ma.Schema, query_string: bytes, location: str,
                      options: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
        """The schema's load of the current request's query string (which is `query_string`)."""
        parsed: dict[str, Any] = super().parse(schema, request, location=location, **dict(options))
        return parsed

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        for name in req.args:
            values = req.args.getlist(name)
            if not (is_storable_text(name) and all(is_storable_text(value) for value in values)):
                webargs_abort(400, messages={"query": {name if is_storable_text(name) else "query":
                                                       [UNSTORABLE_TEXT]}})
            if len(values) > 1:
                webargs_abort(400, messages={"query": {name: ["Give this parameter once; "
                                                              "use a comma list for several values."]}})
        return super().load_querystring(req, schema)


def internal_error_response(error: BaseException) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem_response(500, "Internal Server Error", "The server could not complete the request.")


def unavailable_response(error: OperationalError) -> Response:
    log.error("database unavailable on %s %s: %s", request.method, request.path, error.orig)
    return problem_response(503, "Service Unavailable", "A dependency is unavailable; try again shortly.",
                            headers={"Retry-After": "1"})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_exception_response)
    app.register_error_handler(OperationalError, unavailable_response)
    app.register_error_handler(Exception, internal_error_response)
