"""users_svc's fixtures: its app on users_db_it, a client, users, tokens, and what its outbox holds."""
import pytest
from sqlalchemy import text

from taskwire_common.db import db
from tests.integration.support import emptied, migrated_app

USERS_TABLES = "users, revoked_tokens, login_failures, outbox_events, idempotency_keys, ws_tickets"


@pytest.fixture(scope="session")
def users_app(it_env):
    return migrated_app("users_svc", it_env["DATABASE_URL"])


@pytest.fixture(autouse=True)
def clean_users_db(request):
    """Every test that uses users_svc starts from empty tables."""
    if "users_app" in request.fixturenames:
        emptied(request.getfixturevalue("users_app"), USERS_TABLES)


@pytest.fixture
def client(users_app):
    return users_app.test_client()


@pytest.fixture
def make_user(users_app):
    """Create a user straight through the service layer; returns its id."""
    from users_svc import services

    def make(username="ann", password="password-1", role="user", email=None):
        with users_app.app_context():
            user = services.create_user(username, email or f"{username}@example.com", password, role)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def login(client):
    """Log in through the API and return the token."""

    def log_in(username, password="password-1"):
        response = client.post("/api/auth/login/", json={"username": username, "password": password})
        assert response.status_code == 200, response.json
        return response.json["token"]

    return log_in


@pytest.fixture
def admin_token(make_user, login):
    make_user("root", role="admin")
    return login("root")


@pytest.fixture
def outbox_types(users_app):
    """The routing keys written to the outbox so far, in order."""
    def read():
        with users_app.app_context():
            return [row[0] for row in db.session.execute(
                text("SELECT routing_key FROM outbox_events ORDER BY id"))]
    return read


@pytest.fixture
def users_http(users_app):
    """users_app served over real HTTP on a free port (what other services fetch snapshots from)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, users_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
