"""The exchange, queues, bindings and policies, declared by services and exported as broker definitions.

`python -m broker.topology > broker/definitions.json` regenerates the file a RabbitMQ
container loads; a unit test keeps the two equal.
"""
from __future__ import annotations

import json
import sys

# The routing keys are the event types, which the contract names; they are named here too
# because whoever declares or taps the exchange reads them with the rest of the topology.
from taskwire_common.contracts import (  # noqa: F401
    NOTIFICATION_CREATED,
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


def definitions(vhost: str = "/") -> dict:
    """The same topology in the RabbitMQ definitions format (what `load_definitions` reads)."""
    return {
        "vhosts": [{"name": vhost}],
        "exchanges": [{**exchange, "vhost": vhost} for exchange in EXCHANGES],
        "queues": [{**queue, "vhost": vhost} for queue in QUEUES],
        "bindings": [{**binding, "vhost": vhost} for binding in BINDINGS],
        "policies": [],
    }


if __name__ == "__main__":
    json.dump(definitions(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
