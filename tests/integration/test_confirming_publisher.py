"""The outbox's publisher on the real broker: a batch returns once the broker has confirmed every message of it,
a message a queue refuses fails the whole batch, to be published again, and the check that the feed stream takes
writes reads past what others append ahead of its mark."""
import re
import time
import uuid

import pytest

from broker import topology
from taskwire_common import confirms, contracts
from taskwire_common.confirms import NotConfirmed
from taskwire_common.messaging import ConfirmingPublisher

ANN = contracts.Actor(id=2, username="ann")


def events(count: int) -> list[contracts.Event]:
    return [contracts.task_updated({"id": 7, "title": "Report", "assigned_user": 2, "version": number},
                                   {"version": [number - 1, number]}, ANN) for number in range(1, count + 1)]


@pytest.fixture
def publisher(it_env):
    publisher = ConfirmingPublisher(it_env["AMQP_URL"], topology)
    publisher.connect()
    yield publisher
    publisher.close()


@pytest.fixture
def own_queue(channel):
    """Declares a queue bound to a routing key of its own; returns a function of its arguments giving its name."""
    names = []

    def declare(**arguments):
        name = f"it.confirms.{uuid.uuid4().hex[:8]}"
        channel.queue_declare(name, durable=True, arguments=arguments)
        channel.queue_bind(name, topology.EXCHANGE, name)
        names.append(name)
        return name

    yield declare
    for name in names:
        channel.queue_delete(name)


@pytest.mark.parametrize("kind", ["quorum", "classic"])
def test_a_batch_returns_once_every_message_is_in_the_queue(publisher, own_queue, channel, monkeypatch, kind):
    # Waiting for confirms ends with the last one, not with the time limit: a minute here.
    monkeypatch.setattr(confirms, "CONFIRM_TIMEOUT_SECONDS", 60.0)
    queue = own_queue(**{"x-queue-type": kind})
    # Batches of 200, as the outbox publisher's: confirms then arrive while a batch is still being written.
    batches = [events(200) for _ in range(10)]
    started = time.monotonic()
    for number, batch in enumerate(batches, start=1):
        publisher.publish_batch([(queue, event) for event in batch])
        assert channel.queue_declare(queue, passive=True).method.message_count == 200 * number
    assert time.monotonic() - started < 30

    stored = [channel.basic_get(queue, auto_ack=True)[1].message_id for _ in range(2000)]
    assert stored == [event["id"] for batch in batches for event in batch]


def test_a_message_a_queue_refuses_fails_the_batch(publisher, own_queue, channel):
    # A classic queue full with x-overflow=reject-publish nacks what does not fit, as a quorum queue without a
    # leader nacks (a quorum queue's own length limit lets a write or two past it, so it would not test this).
    queue = own_queue(**{"x-queue-type": "classic", "x-max-length": 2, "x-overflow": "reject-publish"})
    publisher.publish_batch([(queue, event) for event in events(2)])
    with pytest.raises(NotConfirmed, match="nacked"):
        publisher.publish_batch([(queue, event) for event in events(3)])
    assert channel.queue_declare(queue, passive=True).method.message_count == 2


def test_the_feed_check_reads_past_hundreds_of_other_entries_to_its_mark(publisher, it_env, monkeypatch, caplog):
    """Another publisher appends 2,000 entries between the check's consumer starting and its mark, and many of them
    reach the consumer before the mark (RabbitMQ places a consumer at "next" a little after it answers the consume).
    RabbitMQ 3.10 sends a stream consumer its next entry ~90 ms after a single acknowledgement, so acknowledging them
    one at a time failed the check past 110 entries (FeedNotWritable after 10 s)."""
    other = ConfirmingPublisher(it_env["AMQP_URL"], topology)
    other.connect()
    connection = publisher._connection
    open_channel = connection.channel

    def channel_with_entries_ahead_of_the_mark():
        channel = open_channel()
        publish = channel.basic_publish

        def basic_publish(*args, **kwargs):
            other.append_to_feed(events(2000))
            return publish(*args, **kwargs)
        channel.basic_publish = basic_publish
        return channel
    monkeypatch.setattr(connection, "channel", channel_with_entries_ahead_of_the_mark)
    try:
        with caplog.at_level("INFO", logger="taskwire_common.messaging"):
            publisher.check_feed()
    finally:
        other.close()
    [ahead] = re.findall(r"\((\d+) other entries first\)", caplog.text)
    assert int(ahead) >= 150  # 695 to 1,046 in five runs
