"""Integration fixtures: users_svc against its own real PostgreSQL database and RabbitMQ vhost."""
import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from taskwire_common.db import db

IT_ENV = {
    "TASKWIRE_ENV": "test",
    "LOG_LEVEL": "INFO",
    "DATABASE_URL": "postgresql://taskwire:taskwire@127.0.0.1:5432/users_db_it",
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/taskwire_it",
    "LOGIN_MAX_FAILURES": "3",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "6",
    "LOGIN_THROTTLE_SECONDS": "60",
    "REGISTRATION_OPEN": "true",
}
USERS_TABLES = "users, revoked_tokens, login_failures, outbox_events"


@pytest.fixture(scope="session")
def it_env():
    with pytest.MonkeyPatch.context() as patch:
        for name, value in IT_ENV.items():
            patch.setenv(name, value)
        yield IT_ENV


def migrated_app(service, database_url: str):
    """A service's app on its own integration database, migrated to the latest revision."""
    import dataclasses
    import importlib

    app_module = importlib.import_module(f"{service}.app")
    settings = importlib.import_module(f"{service}.config").load_settings()
    app = app_module.create_app(dataclasses.replace(settings, database_url=database_url))
    with app.app_context():
        upgrade()
    return app


def emptied(app, tables: str):
    with app.app_context():
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
        db.session.commit()
    return app


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


class EventTap:
    """An exclusive queue on the real broker bound to every event: what a consumer would see."""

    def __init__(self, amqp_url, routing_key="#"):
        import pika

        from broker import topology
        from taskwire_common.messaging import connection_parameters

        self.connection = pika.BlockingConnection(connection_parameters(amqp_url))
        self.channel = self.connection.channel()
        topology.declare(self.channel)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, topology.EXCHANGE, routing_key)
        self.messages = []

    def drain(self):
        from taskwire_common.contracts import parse_event

        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.messages
            self.messages.append((method.routing_key, properties, parse_event(body)))

    def close(self):
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture
def channel(it_env):
    """A channel on the real broker, Taskwire's topology declared."""
    import pika

    from broker import topology
    from taskwire_common.messaging import connection_parameters

    connection = pika.BlockingConnection(connection_parameters(it_env["AMQP_URL"]))
    channel = connection.channel()
    topology.declare(channel)
    yield channel
    if connection.is_open:
        connection.close()


@pytest.fixture
def event_tap(it_env):
    tap = EventTap(it_env["AMQP_URL"])
    yield tap
    tap.close()


@pytest.fixture
def run_publisher(it_env):
    """Start outbox publishers in threads against users_db_it; all are stopped after the test."""
    import threading

    from broker import topology
    from taskwire_common.outbox_publisher import OutboxPublisher

    publishers = []

    def start(amqp_url=None, **options):
        publisher = OutboxPublisher(it_env["DATABASE_URL"], amqp_url or it_env["AMQP_URL"], topology, **options)
        thread = threading.Thread(target=publisher.run, daemon=True)
        thread.start()
        publishers.append((publisher, thread))
        return publisher

    yield start
    for publisher, _thread in publishers:
        publisher.stop.set()
    for _publisher, thread in publishers:
        thread.join(timeout=10)


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


TASKS_DATABASE_URL = "postgresql://taskwire:taskwire@127.0.0.1:5432/tasks_db_it"
TASKS_TABLES = "tasks, directory_users, outbox_events"


@pytest.fixture(scope="session")
def tasks_app(it_env):
    return migrated_app("tasks_svc", TASKS_DATABASE_URL)


@pytest.fixture
def tasks_db(tasks_app):
    return emptied(tasks_app, TASKS_TABLES)


@pytest.fixture
def tasks_client(tasks_db):
    return tasks_db.test_client()


@pytest.fixture
def directory(tasks_db):
    """Put users in tasks_svc's directory, as users_svc's events would; returns a token per user."""
    from tasks_svc.directory import upsert_users
    from tests.support import make_token

    def add(*users):
        with tasks_db.app_context():
            upsert_users([{"id": user_id, "username": name, "role": role, "is_active": active, "version": 1}
                          for user_id, name, role, active in users])
            db.session.commit()
        return {name: make_token(user_id, name, role) for user_id, name, role, _ in users}

    return add


@pytest.fixture
def people(directory):
    """The usual cast: an admin (1), two users (2, 3) and an inactive user (4); their tokens by name."""
    return directory((1, "root", "admin", True), (2, "ann", "user", True), (3, "bob", "user", True),
                     (4, "gone", "user", False))


@pytest.fixture
def task_events(tasks_db):
    """The task events in tasks_svc's outbox so far, oldest first."""
    def read():
        with tasks_db.app_context():
            return [row[0] for row in db.session.execute(text("SELECT payload FROM outbox_events ORDER BY id"))]
    return read


NOTIFY_DATABASE_URL = "postgresql://taskwire:taskwire@127.0.0.1:5432/notifications_db_it"
NOTIFY_TABLES = "notifications, processed_events, outbox_events"


@pytest.fixture(scope="session")
def notify_app(it_env):
    return migrated_app("notify_svc", NOTIFY_DATABASE_URL)


@pytest.fixture
def notify_db(notify_app):
    return emptied(notify_app, NOTIFY_TABLES)


@pytest.fixture
def stored_notifications(notify_db):
    """(user, message, event_type) of every stored notification, oldest first."""
    def read():
        with notify_db.app_context():
            return [tuple(row) for row in db.session.execute(
                text("SELECT \"user\", message, event_type FROM notifications ORDER BY id"))]
    return read
