"""RabbitMQ as the tools see it: a tap queue on every task event, publishing events, a queue's backlog."""
from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from broker import topology
from stack import cluster
from stack.config import AMQP_SERVER, Profile
from taskwire_common import contracts
from taskwire_common.messaging import ConfirmingPublisher, connect


def amqp_url(profile: Profile) -> str:
    """The profile's broker: the machine's RabbitMQ, or every node of its own cluster (AMQP_URLS)."""
    return cluster.broker_urls(profile) if profile.broker_nodes else f"{AMQP_SERVER}/{profile.amqp_vhost}"


@contextlib.contextmanager
def amqp_channel(url: str) -> Iterator[BlockingChannel]:
    """A channel on a connection of its own, closed afterwards."""
    connection = connect(url)
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


class Tap:
    """A queue bound to the events of `binding` that survives the broker's restarts: a quorum queue, as the
    system's own consumers use. `events` holds what it has read, each passed through `read`, in the broker's
    order: by default the task events, read as such; `envelopes(url)` taps every event, as it came."""

    def __init__(self, url: str, binding: str = "task.*",
                 read: Callable[[contracts.Event], Any] = contracts.read_task_event):
        self.url, self.name, self.read = url, f"harness.tap.{uuid.uuid4().hex[:8]}", read
        self.events: list[Any] = []
        with amqp_channel(self.url) as channel:
            topology.declare(channel)
            channel.queue_declare(self.name, durable=True, arguments={"x-queue-type": "quorum"})
            channel.queue_bind(self.name, topology.EXCHANGE, binding)

    @classmethod
    def envelopes(cls, url: str) -> Tap:
        """A tap of every routing key (`#`) keeping each event as it came off the wire (for holding events to a
        contract, not for reading them)."""
        return cls(url, "#", read=lambda event: event)

    def drain(self) -> list[Any]:
        """Everything read so far, after taking what is waiting in the queue."""
        try:
            with amqp_channel(self.url) as channel:
                while True:
                    _method, _properties, body = channel.basic_get(self.name, auto_ack=True)
                    if body is None:  # (None, None, None): the queue is empty
                        break
                    self.events.append(self.read(contracts.parse_event(body)))
        except pika.exceptions.AMQPError:
            pass  # the broker is restarting; what was not taken stays in the queue
        return self.events

    def delete(self) -> None:
        with amqp_channel(self.url) as channel:
            channel.queue_delete(self.name)


def publish(url: str, events: Iterable[contracts.Event]) -> None:
    """Persistent events straight onto the exchange, each routed by its type; returns once the broker has them."""
    publisher = ConfirmingPublisher(url, topology)
    publisher.connect()
    try:
        publisher.publish_batch([(event["type"], event) for event in events])
    finally:
        publisher.close()


def queue_messages(profile: Profile, queue: str) -> int:
    """Messages ready or in flight on one queue of the profile's vhost, from rabbitmqctl (of its own cluster's
    node, if it has one)."""
    vhost = profile.amqp_vhost
    arguments = ["list_queues", "-p", vhost, "name", "messages"]
    if profile.broker_nodes:
        out = cluster.ctl(cluster.any_running(cluster.nodes(profile)), *arguments)
    else:
        out = subprocess.run(["rabbitmqctl", "-q", *arguments], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name, _, count = line.partition("\t")
        if name == queue:
            return int(count)
    raise LookupError(f"no queue {queue} on vhost {vhost}")
