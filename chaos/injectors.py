"""The faults of a fault run: RabbitMQ and PostgreSQL restarts, SIGKILLs of the outbox publisher and the consumer.

RabbitMQ and PostgreSQL are shared by every stack on this machine, so each fault is noted in
/tmp/taskwire-faults.log, and `make chaos` waits while a soak run says it is running.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from broker import topology
from harness.infra import FAULT_LOG, SOAK_RUNNING, postgres, rabbitmq
from harness.stack_runner import supervisorctl
from stack import cluster
from stack.config import Profile

AFTER_OUTAGE_GRACE = 5.0  # seconds after PostgreSQL is back in which a 503 is still expected
# A profile with a broker cluster of its own (stack/cluster.py): SIGKILL one node, then start it again.
CLIENTS_NODE_KILL = "broker node SIGKILL (the clients' node)"
LEADER_NODE_KILL = "broker node SIGKILL (the queues' leader)"


class Faults:
    """Breaks things on purpose and remembers when each fault happened."""

    def __init__(self, profile: Profile, log, wait_for_soak: bool = True):
        self.profile, self.log, self.wait_for_soak = profile, log, wait_for_soak
        self.windows: list[list] = []  # [name, started, ended or None while it lasts], monotonic
        # The moment of each broker node's SIGKILL, in seconds since the epoch (as events' times are); the window
        # starts earlier, with finding the node.
        self.node_killed_at: list[float] = []

    def inject(self, name: str) -> None:
        if name in ("rabbitmq restart", "postgresql restart") and self.wait_for_soak:
            self._wait_for_soak()
        started = time.monotonic()
        window = [name, started, None]
        self.windows.append(window)
        self._note(f"{name} (make chaos, profile {self.profile.name})")
        if name == "rabbitmq restart":
            rabbitmq("stop")
            time.sleep(3)  # the outage itself, not a wait for a condition
            rabbitmq("start")
        elif name == "postgresql restart":
            postgres("stop")
            time.sleep(2)  # the outage itself
            postgres("start")
        elif name == "outbox publisher SIGKILL":
            self.supervisorctl("signal", "KILL", "taskwire:tasks_outbox")
        elif name == "consumer SIGKILL":
            self.supervisorctl("signal", "KILL", "taskwire:notify_worker")
        elif name in (CLIENTS_NODE_KILL, LEADER_NODE_KILL):
            node = (cluster.clients_node(self.profile) if name == CLIENTS_NODE_KILL
                    else cluster.leader_node(self.profile, topology.NOTIFY_TASKS_QUEUE))
            self.log(f"   killing {node.nodename}")
            cluster.kill(node)
            self.node_killed_at.append(time.time())
            time.sleep(3)  # the outage itself
            cluster.start(self.profile)  # it comes back, and rejoins its peers
        else:
            raise ValueError(name)
        window[2] = time.monotonic()
        self.log(f"   fault: {name} ({time.monotonic() - started:.1f} s)")

    def in_database_outage(self, sent: float, answered: float) -> bool:
        """Did a request's life overlap a PostgreSQL outage (or the moments just after it)?"""
        return any(name == "postgresql restart" and started <= answered
                   and sent <= (ended or answered) + AFTER_OUTAGE_GRACE for name, started, ended in self.windows)

    def supervisorctl(self, *args: str) -> str:
        return supervisorctl(self.profile, *args)

    def _wait_for_soak(self) -> None:
        deadline = time.monotonic() + 900
        while SOAK_RUNNING.exists() and time.monotonic() < deadline:
            self.log("   waiting: a soak run is using the shared RabbitMQ and PostgreSQL")
            time.sleep(10)

    @staticmethod
    def _note(text: str) -> None:
        with FAULT_LOG.open("a") as log:
            log.write(f"{datetime.now(timezone.utc).isoformat(timespec='seconds')} {text}\n")

