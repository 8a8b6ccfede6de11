"""The queue a person reads recent events from, on the real broker: every event, the last few thousand, unharmed."""
import json

import pika
import pytest

from broker import topology
from taskwire_common import contracts

ANN = contracts.Actor(id=2, username="ann")
TASK = {"id": 7, "title": "Write the report", "assigned_user": 2, "version": 1}


@pytest.fixture
def confirming(channel):
    """The conftest's channel (topology declared), each publish returning once the broker has routed it."""
    channel.confirm_delivery()
    return channel


def publish(channel, event: contracts.Event) -> None:
    channel.basic_publish(topology.EXCHANGE, event["type"], json.dumps(event),
                          pika.BasicProperties(delivery_mode=2))


def task_update(number: int) -> contracts.Event:
    return contracts.task_updated({**TASK, "version": number}, {"version": [number - 1, number]}, ANN)


def ids_read_and_put_back(channel, count: int) -> list[str]:
    """What "Get messages" with requeue shows: the oldest `count` events, left in the queue."""
    read = []
    for _ in range(count):
        method, _properties, body = channel.basic_get(topology.INSPECT_QUEUE, auto_ack=False)
        if method is None:
            break
        read.append(contracts.parse_event(body)["id"])
    channel.basic_nack(multiple=True, requeue=True)
    return read


def test_declaring_the_topology_replaces_the_retired_durable_queue(channel):
    channel.queue_declare(topology.RETIRED_QUEUES[0], durable=True)  # as an older version left it
    topology.declare(channel)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="NOT_FOUND"):
        channel.queue_declare(topology.RETIRED_QUEUES[0], passive=True)


def test_recent_events_of_every_kind_can_be_read_without_being_taken(confirming):
    channel = confirming
    channel.queue_purge(topology.INSPECT_QUEUE)
    events = [
        contracts.task_created(TASK, ANN),
        contracts.notification_created({"id": 1, "user": 2, "message": "Ann, a task is yours", "is_read": False}),
        contracts.user_updated({"id": 2, "username": "ann", "role": "admin", "is_active": True}, version=2,
                               changes={"role": ["user", "admin"]}, actor_id=1),
    ]
    for event in events:
        publish(channel, event)
    expected = [event["id"] for event in events]
    assert ids_read_and_put_back(channel, 3) == expected
    assert ids_read_and_put_back(channel, 3) == expected  # reading took nothing


def test_only_the_last_few_thousand_events_are_kept(confirming):
    channel = confirming
    channel.queue_purge(topology.INSPECT_QUEUE)
    events = [task_update(number) for number in range(1, topology.INSPECT_MAX_LENGTH + 11)]
    for event in events:
        publish(channel, event)
    depth = channel.queue_declare(topology.INSPECT_QUEUE, passive=True).method.message_count
    assert depth == topology.INSPECT_MAX_LENGTH
    assert ids_read_and_put_back(channel, 1) == [events[10]["id"]]  # the oldest ten were dropped
