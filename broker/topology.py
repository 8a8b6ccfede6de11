"""The exchange, queues, bindings and policies, declared by services and exported as broker definitions.

`python -m broker.topology > broker/definitions.json` regenerates the file a RabbitMQ
container loads; a unit test keeps the two equal.
"""
from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass

import pika.exceptions

# The routing keys are the event types, which the contract names; they are named here too
# because whoever declares or taps the exchange reads them with the rest of the topology.
from taskwire_common.contracts import (  # noqa: F401
    NOTIFICATION_CREATED,
    NOTIFICATION_UPDATED,
    TASK_CREATED,
    TASK_DELETED,
    TASK_UPDATED,
    TOKEN_REVOKED,
    USER_CREATED,
    USER_UPDATED,
)

EXCHANGE = "taskwire.events"

# Where a message goes after MAX_DELIVERIES failed attempts, to be read by a person.
DEAD_LETTER_EXCHANGE = "taskwire.dead-letter"
DEAD_LETTER_QUEUE = "taskwire.dead-letter"
MAX_DELIVERIES = 5

# Durable consumer queues of the services.
TASKS_USERS_QUEUE = "tasks_svc.users"
NOTIFY_TASKS_QUEUE = "notify_svc.tasks"

# The last few thousand events of every kind, for a person to read in the management console
# ("Get messages") without taking anything from a consumer. Not durable, so RabbitMQ keeps these
# copies in memory: writing every event to disk a second time only to drop it 5,000 events later
# was about a quarter of RabbitMQ's CPU per event. A broker restart empties it; the first service
# to reconnect declares it again.
INSPECT_QUEUE = "taskwire.recent"
INSPECT_MAX_LENGTH = 5000
# The feed's history: every task and notification event, in publish order, kept for a day (by
# default) in a stream, which a consumer reads from any offset without taking anything away.
# The WebSocket relay replays from it to a client that resumes with a cursor (a stream offset).
# Only the relay declares it, with the retention it is configured with (FeedRetention); the
# values below are the defaults. RabbitMQ removes whole segments, so a segment is kept small
# enough that a quiet deployment still drops day-old events.
FEED_STREAM = "taskwire.feed"
FEED_ROUTING_KEYS: tuple[str, ...] = ("task.*", "notification.*")


@dataclass(frozen=True)
class FeedRetention:
    max_age: str = "24h"  # RabbitMQ's units: Y, M, D, h, m, s
    max_bytes: int = 1024 ** 3
    segment_bytes: int = 16 * 1024 ** 2

    def arguments(self) -> dict:
        return {"x-queue-type": "stream", "x-max-age": self.max_age, "x-max-length-bytes": self.max_bytes,
                "x-stream-max-segment-size-bytes": self.segment_bytes}


# Queues of earlier versions, deleted where they are left: the durable inspection queue.
RETIRED_QUEUES = ("taskwire.inspect",)


def _exchange(name: str, kind: str) -> dict:
    return {"name": name, "type": kind, "durable": True, "auto_delete": False, "internal": False,
            "arguments": {}}


def _work_queue(name: str) -> dict:
    """A quorum queue whose poison messages go to the dead-letter queue after MAX_DELIVERIES."""
    return {"name": name, "durable": True, "auto_delete": False, "arguments": {
        "x-queue-type": "quorum",
        "x-delivery-limit": MAX_DELIVERIES,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
    }}


def _binding(source: str, queue: str, routing_key: str) -> dict:
    return {"source": source, "destination": queue, "destination_type": "queue",
            "routing_key": routing_key, "arguments": {}}


log = logging.getLogger(__name__)

EXCHANGES = [_exchange(EXCHANGE, "topic"), _exchange(DEAD_LETTER_EXCHANGE, "fanout")]

# Durable queues with their bindings. Per-process queues (revocation feeds, relay
# subscriptions) are exclusive and server-named, so they are not listed here.
QUEUES: list[dict] = [
    {"name": DEAD_LETTER_QUEUE, "durable": True, "auto_delete": False,
     "arguments": {"x-queue-type": "quorum"}},
    _work_queue(TASKS_USERS_QUEUE),
    _work_queue(NOTIFY_TASKS_QUEUE),
    {"name": INSPECT_QUEUE, "durable": False, "auto_delete": False,
     "arguments": {"x-max-length": INSPECT_MAX_LENGTH, "x-overflow": "drop-head"}},
]
FEED_QUEUE = {"name": FEED_STREAM, "durable": True, "auto_delete": False, "arguments": FeedRetention().arguments()}
FEED_BINDINGS = [_binding(EXCHANGE, FEED_STREAM, key) for key in FEED_ROUTING_KEYS]
BINDINGS: list[dict] = [
    _binding(DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, ""),
    _binding(EXCHANGE, TASKS_USERS_QUEUE, "user.*"),
    _binding(EXCHANGE, NOTIFY_TASKS_QUEUE, "task.*"),
    _binding(EXCHANGE, INSPECT_QUEUE, "#"),
]


def declare(channel) -> None:
    """Declare everything above on an open pika channel (idempotent)."""
    for exchange in EXCHANGES:
        channel.exchange_declare(exchange=exchange["name"], exchange_type=exchange["type"],
                                 durable=exchange["durable"], auto_delete=exchange["auto_delete"],
                                 internal=exchange["internal"], arguments=exchange["arguments"])
    for name in RETIRED_QUEUES:
        channel.queue_delete(queue=name)  # RabbitMQ answers ok for a queue that is gone already
    for queue in QUEUES:
        channel.queue_declare(queue=queue["name"], durable=queue["durable"],
                              auto_delete=queue["auto_delete"], arguments=queue["arguments"])
    for binding in BINDINGS:
        channel.queue_bind(queue=binding["destination"], exchange=binding["source"],
                           routing_key=binding["routing_key"], arguments=binding["arguments"])


def declare_feed(connection, retention: FeedRetention) -> None:
    """Declare the feed stream and its bindings (the relay, which reads it), on a channel of its own.

    A stream that exists with other retention keeps it: RabbitMQ refuses to redeclare a queue
    with other arguments, and changing retention is an operator's act (a policy, or deleting the
    stream); the relay logs the difference and goes on with the stream as it is.
    """
    channel = connection.channel()
    try:
        channel.queue_declare(queue=FEED_STREAM, durable=True, arguments=retention.arguments())
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code != 406:  # PRECONDITION_FAILED: it exists with other arguments
            raise
        log.warning("the feed stream %s exists with other retention than %s; keeping it as it is (%s)",
                    FEED_STREAM, retention, error.reply_text)
        channel = connection.channel()
        channel.queue_declare(queue=FEED_STREAM, passive=True)
    for binding in FEED_BINDINGS:
        channel.queue_bind(queue=FEED_STREAM, exchange=EXCHANGE, routing_key=binding["routing_key"])
    channel.close()


def definitions(vhost: str = "/") -> dict:
    """The same topology in the RabbitMQ definitions format (what `load_definitions` reads)."""
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [{**exchange, "vhost": vhost} for exchange in EXCHANGES],
        "queues": [{**queue, "vhost": vhost} for queue in [*QUEUES, FEED_QUEUE]],
        "bindings": [{**binding, "vhost": vhost} for binding in [*BINDINGS, *FEED_BINDINGS]],
        "policies": [],
    }


if __name__ == "__main__":
    json.dump(definitions(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
