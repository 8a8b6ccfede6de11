"""What a fault run does: how many changes over how long, by whom, and which faults, in what order."""
from __future__ import annotations

import random
from dataclasses import dataclass

from .injectors import CLIENTS_NODE_KILL, LEADER_NODE_KILL


@dataclass
class Plan:
    changes: int = 2000  # committed changes to make
    seconds: float = 180.0  # how long the writers spread them over
    broker_restarts: int = 3
    publisher_kills: int = 3
    consumer_kills: int = 3
    postgres_restarts: int = 1
    node_kills: int = 0  # a profile with its own broker cluster: SIGKILLs of a node, alternately the clients' and the
    # queues' leader's
    users: int = 4
    writers: int = 4
    final_changes: int = 20
    resuming_drop_after: tuple[float, float] = (0.5, 5.0)  # seconds a resuming client keeps each socket
    seed: int = 8
    wait_for_soak: bool = True  # make chaos waits for a soak run on this machine; make test does not

    def faults(self) -> list[str]:
        names = (["rabbitmq restart"] * self.broker_restarts + ["outbox publisher SIGKILL"] * self.publisher_kills
                 + ["consumer SIGKILL"] * self.consumer_kills + ["postgresql restart"] * self.postgres_restarts)
        random.Random(self.seed).shuffle(names)
        kills = [CLIENTS_NODE_KILL if number % 2 == 0 else LEADER_NODE_KILL for number in range(self.node_kills)]
        return kills + names
