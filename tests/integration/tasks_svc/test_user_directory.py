"""tasks_svc's user directory: a snapshot from users_svc at start, then `user.*` events through the broker."""
import threading

import pytest
from sqlalchemy import select

from broker import topology
from tasks_svc.directory import apply_user_event, load_snapshot, upsert_users
from tasks_svc.models import DirectoryUser
from taskwire_common import contracts
from taskwire_common.consumer import EventConsumer, one_at_a_time
from taskwire_common.db import db
from taskwire_common.internal import InternalClient
from taskwire_common.settings import DEV_INTERNAL_API_KEY
from taskwire_common.worker import in_app_context
from tests.support import bearer, wait_for


def internal_client(users_url):
    return InternalClient(users_url, DEV_INTERNAL_API_KEY)  # the integration tests' services run with the default


def directory_rows(tasks_app):
    with tasks_app.app_context():
        return {u.username: (u.role, u.is_active, u.version)
                for u in db.session.execute(select(DirectoryUser)).scalars()}


@pytest.fixture
def users_queue(channel):
    """The real durable queue of tasks_svc's worker, emptied of what earlier tests left in it."""
    channel.queue_purge(topology.TASKS_USERS_QUEUE)
    return topology.TASKS_USERS_QUEUE


@pytest.fixture
def directory_worker(it_env, tasks_db, users_queue, users_http):
    """tasks_svc's worker loop in a thread, in the app's context: snapshot once bound, then events."""
    consumer = EventConsumer(it_env["AMQP_URL"], topology, users_queue,
                             one_at_a_time(in_app_context(tasks_db, apply_user_event)),
                             on_connected=in_app_context(tasks_db, lambda: load_snapshot(internal_client(users_http))))
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    yield consumer
    consumer.stop.set()
    thread.join(timeout=10)


def test_the_snapshot_brings_every_existing_user(tasks_db, make_user, users_http):
    make_user("ann")
    make_user("boss", role="admin")
    with tasks_db.app_context():
        load_snapshot(internal_client(users_http))
    assert directory_rows(tasks_db) == {"ann": ("user", True, 1), "boss": ("admin", True, 1)}


def test_user_events_keep_the_directory_current(client, tasks_db, make_user, admin_token, run_publisher,
                                                directory_worker):
    run_publisher()
    response = client.post("/api/auth/register/", json={"username": "newbie", "email": "n@example.com",
                                                        "password": "long-enough"})
    new_id = response.json["user"]["id"]
    wait_for(lambda: "newbie" in directory_rows(tasks_db), message="the new user in the directory")
    client.delete(f"/api/auth/users/{new_id}/", headers=bearer(admin_token))
    wait_for(lambda: directory_rows(tasks_db)["newbie"][1] is False, message="the deactivation")
    client.put(f"/api/auth/users/{new_id}/role/", json={"role": "admin"}, headers=bearer(admin_token))
    wait_for(lambda: directory_rows(tasks_db)["newbie"][0] == "admin", message="the role change")


def test_an_older_version_never_overwrites_a_newer_one(tasks_db):
    with tasks_db.app_context():
        upsert_users([{"id": 7, "username": "ann", "role": "admin", "is_active": False, "version": 3}])
        apply_user_event(contracts.user_updated({"id": 7, "username": "ann", "role": "user", "is_active": True},
                                                2, {"role": ["admin", "user"]}, None))
    assert directory_rows(tasks_db) == {"ann": ("admin", False, 3)}
