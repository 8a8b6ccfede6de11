"""Every service answer carries nosniff; one to a request with credentials is never stored by a cache; a credential
in a URL never reaches the request log; a chunked body over the limit is a 413 like any other."""
import io
import json

import pytest
from flask import Flask, Response, request

from taskwire_common.app_factory import register_body_checks
from taskwire_common.errors import register_error_handlers
from taskwire_common.requestid import loggable_path
from taskwire_common.security_headers import register_security_headers

ETAG = '"v3"'


@pytest.fixture
def client():
    app = Flask(__name__)
    register_error_handlers(app)
    register_security_headers(app)

    @app.get("/thing")
    def thing():
        response = Response(json.dumps({"id": 1}), mimetype="application/json")
        response.set_etag("v3")
        return response.make_conditional(request)

    @app.get("/public")
    def public():
        return Response("{}", mimetype="application/json", headers={"Cache-Control": "max-age=60"})

    return app.test_client()


def test_every_answer_says_nosniff_errors_included(client):
    for path in ("/thing", "/public", "/missing"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("credential", [{"headers": {"Authorization": "Bearer abc"}},
                                        {"query_string": {"token": "abc"}},
                                        {"query_string": {"ticket": "abc"}}])
def test_an_answer_to_a_request_with_credentials_is_not_stored(client, credential):
    assert client.get("/thing", **credential).headers["Cache-Control"] == "no-store"
    assert client.get("/missing", **credential).headers["Cache-Control"] == "no-store"


def test_an_answer_to_a_request_without_credentials_keeps_the_caches_defaults(client):
    assert "Cache-Control" not in client.get("/thing", query_string={"tokens": "1"}).headers


def test_a_views_own_cache_control_is_kept(client):
    response = client.get("/public", headers={"Authorization": "Bearer abc"})
    assert response.headers["Cache-Control"] == "max-age=60"


def test_a_conditional_get_is_still_answered_304(client):
    auth = {"Authorization": "Bearer abc"}
    first = client.get("/thing", headers=auth)
    assert first.status_code == 200 and first.headers["ETag"] == ETAG
    again = client.get("/thing", headers={**auth, "If-None-Match": ETAG})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "no-store" and again.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query, logged", [
    ("token=abc&since=5", "/ws/tasks/?token=%2A%2A%2A&since=5"),
    ("ticket=abc", "/ws/tasks/?ticket=%2A%2A%2A"),
    ("Ticket=abc&TOKEN=def", "/ws/tasks/?Ticket=%2A%2A%2A&TOKEN=%2A%2A%2A"),
    ("%74icket=abc", "/ws/tasks/?ticket=%2A%2A%2A"),
    ("since=5", "/ws/tasks/?since=5"),
    ("", "/ws/tasks/"),
])
def test_the_request_log_masks_tokens_and_tickets(query, logged):
    with Flask(__name__).test_request_context(f"/ws/tasks/?{query}"):
        assert loggable_path() == logged


LIMIT = 1000


@pytest.fixture
def body_client():
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = LIMIT  # as create_service_app sets it
    register_error_handlers(app)
    register_body_checks(app, LIMIT)

    @app.post("/echo")
    def echo():
        return {"length": len(request.get_json()["text"])}

    return app.test_client()


def post_chunked(client, body: bytes):
    """A chunked body as gunicorn hands it to the app: no Content-Length, the stream ends with the body."""
    return client.post("/echo", input_stream=io.BytesIO(body),
                       headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def json_of_size(size: int) -> bytes:
    body = json.dumps({"text": "a" * (size - len('{"text": ""}'))}).encode()
    assert len(body) == size
    return body


def test_a_chunked_body_up_to_the_limit_reaches_the_view_whole(body_client):
    response = post_chunked(body_client, json_of_size(LIMIT))
    assert response.status_code == 200, response.json
    assert response.json == {"length": LIMIT - len('{"text": ""}')}


@pytest.mark.parametrize("size", [LIMIT + 1, 3 * LIMIT])
def test_a_chunked_body_over_the_limit_is_a_413(body_client, size):
    response = post_chunked(body_client, json_of_size(size))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json" and response.json["status"] == 413


def test_a_body_over_the_limit_with_a_length_is_a_413(body_client):
    response = body_client.post("/echo", data=json_of_size(LIMIT + 1), content_type="application/json")
    assert response.status_code == 413
