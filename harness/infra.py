"""Stopping and starting the machine's shared RabbitMQ and PostgreSQL, for runs that break them on purpose."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

# RabbitMQ and PostgreSQL are shared by every stack on this machine: a run that restarts them notes
# each restart in FAULT_LOG, and waits while a soak run (which must not meet them) holds SOAK_RUNNING.
FAULT_LOG = Path("/tmp/taskwire-faults.log")
SOAK_RUNNING = Path("/tmp/taskwire-soak.running")


def run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def rabbitmq(action: str) -> None:
    """`stop` or `start` the RabbitMQ application (the node stays up, so does its Erlang VM)."""
    run(["rabbitmqctl", "-q", f"{action}_app"])


def postgres(action: str) -> None:
    """`stop` (fast: open connections are cut) or `start` the newest PostgreSQL cluster."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action,
         *(["-m", "fast"] if action == "stop" else [])])
