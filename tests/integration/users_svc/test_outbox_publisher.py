"""The outbox publisher on real PostgreSQL and RabbitMQ: woken by commits, in order, once, confirmed, patient."""
import pytest
from sqlalchemy import text

from taskwire_common.db import db
from taskwire_common.messaging import MARK_TYPE
from tests.support import wait_for


def register(client, name):
    response = client.post("/api/auth/register/",
                           json={"username": name, "email": f"{name}@example.com", "password": "long-enough"})
    assert response.status_code == 201


def pending_count(users_app):
    with users_app.app_context():
        return db.session.execute(text("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")).scalar()


def test_committed_events_are_published_persistent_as_cloudevents(client, users_app, event_tap, run_publisher):
    run_publisher()
    register(client, "ann")
    wait_for(lambda: event_tap.drain(), message="user.created on the broker")
    routing_key, properties, event = event_tap.messages[0]
    assert routing_key == "user.created"
    assert properties.delivery_mode == 2 and properties.message_id == event["id"]
    assert properties.content_type == "application/cloudevents+json"
    assert {"specversion", "id", "source", "type", "time", "datacontenttype", "data"} <= set(event)
    assert event["specversion"] == "1.0" and event["data"]["user"]["username"] == "ann"
    assert event["requestid"]
    wait_for(lambda: pending_count(users_app) == 0, message="the row marked published")


def test_a_commit_wakes_the_publisher_without_waiting_for_a_sweep(client, event_tap, run_publisher):
    publisher = run_publisher(sweep_seconds=60)  # only NOTIFY can deliver within the deadline below
    wait_for(lambda: publisher.broker.is_open, message="publisher connected")
    register(client, "ann")
    wait_for(lambda: event_tap.drain(), timeout=5, message="the event, woken by NOTIFY")


def test_events_arrive_in_commit_order_exactly_once_with_two_publishers_running(client, event_tap, run_publisher):
    run_publisher()
    run_publisher()
    names = [f"user{number}" for number in range(30)]
    for name in names:
        register(client, name)
    wait_for(lambda: len(event_tap.drain()) >= 30, timeout=10, message="30 events")
    assert [event["data"]["user"]["username"] for _, _, event in event_tap.messages] == names
    assert len({event["id"] for _, _, event in event_tap.messages}) == 30
    assert event_tap.drain() == event_tap.messages  # nothing more arrives


def test_events_wait_while_the_broker_is_unreachable_and_go_out_when_it_is_back(
        client, users_app, event_tap, run_publisher):
    unreachable = run_publisher(amqp_url="amqp://guest:guest@127.0.0.1:1/taskwire_it")
    for name in ("ann", "bob"):
        register(client, name)
    assert pending_count(users_app) == 2
    unreachable.stop.set()
    run_publisher()
    wait_for(lambda: len(event_tap.drain()) == 2, message="both waiting events")
    wait_for(lambda: pending_count(users_app) == 0, message="both rows marked published")  # after the confirm


@pytest.mark.parametrize("down", [
    "amqp://guest:guest@127.0.0.1:1/taskwire_it",  # port 1: nothing listens, the connection is refused
    "amqp://guest:guest@node-gone.invalid:5672/taskwire_it",  # a name that no longer resolves (a container gone)
], ids=["refused", "unresolvable"])
def test_given_several_brokers_the_publisher_connects_to_the_first_that_answers(
        client, users_app, event_tap, run_publisher, it_env, down):
    """AMQP_URLS: a cluster's nodes, tried in turn (messaging.connect); here the first does not answer."""
    publisher = run_publisher(amqp_url=f"{down},{it_env['AMQP_URL']}")
    wait_for(lambda: publisher.broker.is_open, message="connected through the second address")
    register(client, "ann")
    wait_for(lambda: event_tap.drain(), message="user.created published through the second address")
    assert event_tap.messages[0][0] == "user.created"
    wait_for(lambda: pending_count(users_app) == 0, message="the row marked published")


def test_after_connecting_the_publisher_appends_its_recent_feed_events_to_the_stream_again(users_app, run_publisher,
                                                                                          it_env):
    """RabbitMQ may lose a stream's last writes when it stops: each new connection appends the last published
    task and notification events to the feed stream again (only there), for the relay to fill a hole with."""
    import json

    import pika

    from broker import topology
    from taskwire_common import contracts
    from taskwire_common.messaging import connection_parameters

    task_event = contracts.task_updated({"id": 1, "title": "x", "assigned_user": 2}, {}, contracts.Actor(1, "a"))
    user_event = contracts.user_created({"id": 2, "username": "u", "role": "user", "is_active": True}, 1, None)
    with users_app.app_context():
        for event in (task_event, user_event):  # published a minute ago, as before a broker restart
            db.session.execute(text(
                "INSERT INTO outbox_events (event_id, routing_key, payload, published_at) "
                "VALUES (:id, :key, CAST(:payload AS jsonb), now() - interval '1 minute')"),
                {"id": event["id"], "key": event["type"], "payload": json.dumps(event)})
        db.session.commit()
    broker = pika.BlockingConnection(connection_parameters(it_env["AMQP_URL"]))
    channel = broker.channel()
    channel.queue_delete(topology.FEED_STREAM)
    topology.declare_feed(broker, topology.FeedRetention())
    channel = broker.channel()
    channel.basic_qos(prefetch_count=10)
    copies = []
    marks = []  # the publisher's check that the stream takes writes (ConfirmingPublisher.check_feed)
    channel.basic_consume(topology.FEED_STREAM, lambda ch, method, properties, body: (
        marks if properties.type == MARK_TYPE else copies).append(body), arguments={"x-stream-offset": "first"})
    publisher = run_publisher()
    wait_for(lambda: broker.process_data_events(time_limit=0.1) or copies, message="the copy in the stream")
    wait_for(lambda: publisher.broker.is_open, message="the publisher connected")
    broker.process_data_events(time_limit=0.5)  # anything more it appended would be here by now
    assert [json.loads(body)["id"] for body in copies] == [task_event["id"]]  # not the user event
    assert len(marks) == 1
    broker.close()



def test_between_wake_ups_the_publisher_holds_no_transaction_open(client, users_app, event_tap, run_publisher):
    publisher = run_publisher()
    wait_for(lambda: publisher.broker.is_open, message="publisher connected")
    register(client, "ann")
    wait_for(lambda: event_tap.drain(), message="user.created on the broker")
    wait_for(lambda: pending_count(users_app) == 0, message="the row marked published")

    def leaders_state():
        with users_app.app_context():
            return db.session.execute(text(
                "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()")).scalar()
    # Autocommit: every statement its own transaction, none left open while it waits (nor any BEGIN sent).
    wait_for(lambda: leaders_state() == "idle", message="the leader's connection idle, in no transaction")
