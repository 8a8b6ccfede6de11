"""Workers and outbox publishers touch their heartbeat file from their main loop, on the real broker."""
import os
import threading
import time
import uuid

from broker import topology
from taskwire_common.consumer import EventConsumer
from tests.support import wait_for


def fresh(path, since):
    return path.exists() and path.stat().st_mtime >= since


def test_a_consumer_beats_while_it_consumes(it_env, channel, tmp_path, monkeypatch):
    path = tmp_path / "beat"
    monkeypatch.setenv("HEARTBEAT_FILE", str(path))
    queue = f"it.beat.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, arguments={"x-expires": 60_000})
    consumer = EventConsumer(it_env["AMQP_URL"], topology, queue, lambda events: None)
    thread = threading.Thread(target=consumer.run, daemon=True)
    started = time.time()
    thread.start()
    try:
        wait_for(lambda: fresh(path, started), timeout=10, message="the first heartbeat")
        first = path.stat().st_mtime
        wait_for(lambda: path.stat().st_mtime > first, timeout=10, message="a later heartbeat")
    finally:
        consumer.stop.set()
        thread.join(timeout=10)
        channel.queue_delete(queue)


def test_an_outbox_publisher_beats_while_it_publishes(it_env, run_publisher, tmp_path, monkeypatch):
    path = tmp_path / "beat"
    monkeypatch.setenv("HEARTBEAT_FILE", str(path))
    started = time.time()
    run_publisher()
    wait_for(lambda: fresh(path, started), timeout=10, message="the publisher's heartbeat")
    first = path.stat().st_mtime
    wait_for(lambda: path.stat().st_mtime > first, timeout=10, message="a later heartbeat")
    assert os.path.getsize(path) == 0
