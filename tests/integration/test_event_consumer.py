"""The shared consumer on the real broker: ack after success, poison to the dead-letter queue, outages waited out."""
import json
import threading
import uuid

import pika
import pytest
from sqlalchemy.exc import OperationalError

from broker import topology
from taskwire_common import contracts
from taskwire_common.consumer import EventConsumer, one_at_a_time
from tests.support import wait_for


@pytest.fixture
def work_queue(channel):
    """A throwaway quorum queue shaped like the services' (delivery limit, dead-lettering)."""
    name = f"it.consumer.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(name, durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": 2, "x-dead-letter-exchange": topology.DEAD_LETTER_EXCHANGE})
    yield name
    channel.queue_delete(name)


@pytest.fixture
def run_consumer(it_env):
    consumers = []

    def start(queue, handle):
        consumer = EventConsumer(it_env["AMQP_URL"], topology, queue, one_at_a_time(handle), prefetch=5)
        threading.Thread(target=consumer.run, daemon=True).start()
        consumers.append(consumer)
        return consumer

    yield start
    for consumer in consumers:
        consumer.stop.set()


def send(channel, queue, body, message_id):
    channel.basic_publish("", queue, body, pika.BasicProperties(message_id=message_id, delivery_mode=2))


def send_event(channel, queue, event):
    send(channel, queue, json.dumps(event).encode(), event["id"])


def an_event():
    """Any event will do: the consumer hands every well-formed one to its handler."""
    return contracts.token_revoked(1, token_version=2)


def messages_left_after_stopping(channel, queue, consumer):
    """Stop the consumer; whatever it had not acknowledged is back in the queue then."""
    consumer.stop.set()
    wait_for(lambda: channel.queue_declare(queue, passive=True).method.consumer_count == 0,
             message="the consumer gone")
    return channel.queue_declare(queue, passive=True).method.message_count


def dead_letters(channel, wanted):
    found = []
    while True:
        method, properties, _body = channel.basic_get(topology.DEAD_LETTER_QUEUE, auto_ack=True)
        if method is None:
            return [m for m in found if m in wanted]
        found.append(properties.message_id)


def test_poison_goes_to_the_dead_letter_queue_and_the_rest_flow(channel, work_queue, run_consumer):
    first, poison, last = an_event(), an_event(), an_event()
    handled = set()  # handlers are idempotent: a batch that failed is retried message by message

    def handle(evt):
        if evt["id"] == poison["id"]:
            raise ValueError("cannot handle this one")
        handled.add(evt["id"])

    send_event(channel, work_queue, first)
    send_event(channel, work_queue, poison)
    send(channel, work_queue, b"{not json", "garbage")
    send_event(channel, work_queue, last)
    consumer = run_consumer(work_queue, handle)
    wait_for(lambda: handled == {first["id"], last["id"]}, message="the good messages")
    letters = []
    wait_for(lambda: letters.extend(dead_letters(channel, {poison["id"], "garbage"})) or len(letters) == 2,
             timeout=10, message="poison and garbage dead-lettered")
    assert sorted(letters) == sorted([poison["id"], "garbage"])
    assert messages_left_after_stopping(channel, work_queue, consumer) == 0


def test_a_database_outage_is_waited_out_without_dead_lettering(channel, work_queue, run_consumer):
    attempts = []

    def handle(evt):
        attempts.append(evt["id"])
        if len(attempts) < 3:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    patient = an_event()
    send_event(channel, work_queue, patient)
    consumer = run_consumer(work_queue, handle)
    wait_for(lambda: len(attempts) == 3, timeout=10, message="the third attempt")
    assert messages_left_after_stopping(channel, work_queue, consumer) == 0
    assert dead_letters(channel, {patient["id"]}) == []
    assert attempts == [patient["id"]] * 3


def test_a_batch_handled_whole_is_acknowledged_whole_and_the_next_flows(channel, work_queue, run_consumer):
    handled = []
    first = [an_event() for _ in range(5)]  # the prefetch: one batch
    for evt in first:
        send_event(channel, work_queue, evt)
    consumer = run_consumer(work_queue, lambda evt: handled.append(evt["id"]))
    wait_for(lambda: len(handled) == 5, message="the first batch")
    later = [an_event() for _ in range(7)]  # deliveries after a batch's one acknowledgement still flow
    for evt in later:
        send_event(channel, work_queue, evt)
    wait_for(lambda: len(handled) == 12, message="the later batches")
    assert messages_left_after_stopping(channel, work_queue, consumer) == 0
    assert handled == [evt["id"] for evt in first + later]
