"""The queue a person reads recent events from, on the real broker: every event, the last few thousand, read without taking."""
import json
import uuid

import pika
import pytest

from broker import topology


@pytest.fixture
def confirming(channel):
    """The conftest's channel (topology declared), each publish returning once the broker has routed it."""
    channel.confirm_delivery()
    return channel


def publish(channel, routing_key: str, marker: str) -> None:
    channel.basic_publish(topology.EXCHANGE, routing_key, json.dumps({"marker": marker}),
                          pika.BasicProperties(delivery_mode=2))


def markers_read_and_put_back(channel, count: int) -> list[str]:
    """What "Get messages" with requeue shows: the oldest `count` messages, left in the queue."""
    read = []
    for _ in range(count):
        method, _properties, body = channel.basic_get(topology.INSPECT_QUEUE, auto_ack=False)
        if method is None:
            break
        read.append(json.loads(body)["marker"])
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
    run = uuid.uuid4().hex[:8]
    for routing_key in (topology.TASK_CREATED, topology.NOTIFICATION_CREATED, topology.USER_UPDATED):
        publish(channel, routing_key, f"{run}-{routing_key}")
    expected = [f"{run}-{key}" for key in (topology.TASK_CREATED, topology.NOTIFICATION_CREATED,
                                           topology.USER_UPDATED)]
    assert markers_read_and_put_back(channel, 3) == expected
    assert markers_read_and_put_back(channel, 3) == expected  # reading took nothing


def test_only_the_last_few_thousand_events_are_kept(confirming):
    channel = confirming
    channel.queue_purge(topology.INSPECT_QUEUE)
    run = uuid.uuid4().hex[:8]
    for number in range(topology.INSPECT_MAX_LENGTH + 10):
        publish(channel, topology.TASK_UPDATED, f"{run}-{number}")
    depth = channel.queue_declare(topology.INSPECT_QUEUE, passive=True).method.message_count
    assert depth == topology.INSPECT_MAX_LENGTH
    assert markers_read_and_put_back(channel, 1) == [f"{run}-10"]  # the oldest ten were dropped
