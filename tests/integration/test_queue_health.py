"""The worker check of /healthz on the real broker: down with nobody consuming, lagging past the limit, else well."""
import uuid

import pika

from taskwire_common.queue_health import QueueHealth


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_queue_nobody_consumes_is_down_one_consumed_is_well_and_a_long_one_lags(it_env, channel):
    queue = f"it.health.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, auto_delete=False, arguments={"x-expires": 60_000})
    clock = Clock()
    check = QueueHealth(it_env["AMQP_URL"], queue, max_backlog=3, clock=clock)
    healthy, detail = check()
    assert not healthy and "nobody consumes" in detail

    consumer = pika.BlockingConnection(pika.URLParameters(it_env["AMQP_URL"]))
    consumer.channel().basic_consume(queue, lambda *args: None, auto_ack=False)
    assert check() == (False, detail), "kept for a moment: a health poll costs no broker round trip"
    clock.now += 2.0
    assert check() == (True, {"consumers": 1, "waiting": 0})

    consumer.close()  # nobody takes what is published now
    for _ in range(4):
        channel.basic_publish("", queue, b"{}")
    clock.now += 2.0
    healthy, detail = check()
    assert not healthy and "nobody consumes" in detail and "4 messages" in detail
    channel.queue_delete(queue)


def test_a_consumed_queue_past_the_backlog_limit_lags(it_env, channel):
    queue = f"it.health.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, auto_delete=False, arguments={"x-expires": 60_000})
    for _ in range(4):
        channel.basic_publish("", queue, b"{}")
    consumer = pika.BlockingConnection(pika.URLParameters(it_env["AMQP_URL"]))
    consuming = consumer.channel()
    consuming.basic_qos(prefetch_count=1)  # a slow worker: one message at a time, never acknowledged here
    consuming.basic_consume(queue, lambda *args: None)
    try:
        healthy, detail = QueueHealth(it_env["AMQP_URL"], queue, max_backlog=2)()
        assert not healthy and "lags" in detail  # 3 or 4 wait, whether or not the first was delivered yet
        assert QueueHealth(it_env["AMQP_URL"], queue, max_backlog=4)()[0]
    finally:
        consumer.close()
        channel.queue_delete(queue)


def test_a_broker_that_cannot_be_reached_is_reported_not_raised():
    check = QueueHealth("amqp://guest:guest@127.0.0.1:9/none", "anything", max_backlog=1)
    healthy, detail = check()
    assert not healthy and "RabbitMQ cannot tell" in detail
