"""notify_svc's consumer on the real broker: at-least-once delivery, exactly-once effect, poison set aside."""
import random
import threading

import pika
import pytest

from broker import topology
from notify_svc.services import handle_task_events
from taskwire_common import contracts
from taskwire_common.consumer import EventConsumer
from taskwire_common.messaging import ConfirmingPublisher, connection_parameters
from tests.support import wait_for


def task_event(number, kind="created", actor=1):
    task = {"id": number, "title": f"task {number}", "priority": "low", "status": "todo", "due_date": None,
            "assigned_user": 2}
    who = contracts.Actor(actor, f"user{actor}")
    if kind == "updated":
        return contracts.task_updated(task, {"status": ["todo", "in_progress"]}, who)
    return contracts.task_created(task, who)


@pytest.fixture
def notify_queue(it_env):
    connection = pika.BlockingConnection(connection_parameters(it_env["AMQP_URL"]))
    channel = connection.channel()
    topology.declare(channel)
    channel.queue_purge(topology.NOTIFY_TASKS_QUEUE)
    channel.queue_purge(topology.DEAD_LETTER_QUEUE)
    yield channel
    connection.close()


@pytest.fixture
def publish(it_env):
    publisher = ConfirmingPublisher(it_env["AMQP_URL"], topology)
    publisher.connect()
    yield lambda event: publisher.publish(event["type"], event)
    publisher.close()


@pytest.fixture
def notify_consumer(it_env, notify_db, notify_queue):
    """The worker's consumer in a thread; `consumer.handled` counts messages in batches handled without error."""
    def handle(events):
        with notify_db.app_context():
            handle_task_events(events)
        consumer.handled += len(events)

    consumer = EventConsumer(it_env["AMQP_URL"], topology, topology.NOTIFY_TASKS_QUEUE, handle)
    consumer.handled = 0
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    yield consumer
    consumer.stop.set()
    thread.join(timeout=10)


def test_500_events_with_repeats_make_exactly_the_expected_notifications(publish, notify_consumer,
                                                                         stored_notifications):
    rng = random.Random(7)
    events = [task_event(n, "updated", actor=2) if n % 5 == 0 else task_event(n) for n in range(500)]
    repeats = rng.sample(events, 120)
    for event in events + repeats:
        publish(event)
    read = [contracts.read_task_event(event) for event in events]
    expected = sorted(event.task_id for event in read if event.actor_id != 2)
    wait_for(lambda: notify_consumer.handled == 620, timeout=60, message="all 620 deliveries handled")
    stored = stored_notifications()
    assert len(stored) == len(expected) == 400
    assert sorted(int(message.split("'task ")[1].split("'")[0]) for _, message, _ in stored) == expected


def test_a_poison_event_is_dead_lettered_and_the_rest_flow(publish, notify_consumer, notify_queue,
                                                           stored_notifications):
    poison = task_event(1)
    del poison["data"]["task"]
    publish(task_event(100))
    publish(poison)
    publish(task_event(101))
    wait_for(lambda: len(stored_notifications()) == 2, timeout=10, message="the two good events")

    def dead_lettered():
        method, properties, _ = notify_queue.basic_get(topology.DEAD_LETTER_QUEUE, auto_ack=True)
        return method is not None and properties.message_id == poison["id"]
    wait_for(dead_lettered, timeout=20, message="the poison in the dead-letter queue")
