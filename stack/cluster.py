"""A RabbitMQ cluster of the profile's own on this machine: its nodes started, joined, stopped and killed.

A profile with `broker_nodes` (the `cluster` profile: three) does not use the machine's RabbitMQ.
Each node is a RabbitMQ server of the Debian package with its own node name, ports, data and log
directories under `var/<profile>/rabbitmq/<node>/`, and a config file of its own (the machine's
`/etc/rabbitmq/rabbitmq.conf` pins the AMQP listener to 5672). Nodes and the CLI run as the
`rabbitmq` user, so they share its Erlang cookie; the launcher must run as root to start them.
The first node serves the management console. The others join the first; a cluster once joined
is remembered in the nodes' data, and all nodes start together so that each finds its peers.

Ports, for node i (0, 1, 2) of a profile with `broker_port` P: AMQP P + i, distribution
20000 + P + i (the system node holds 25672), management 10000 + P on the first node.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config imports this module for the brokers' URLs
    from .config import Profile

BROKER_USER = "rabbitmq"
BROKER_HOME = "/var/lib/rabbitmq"  # where the rabbitmq user's Erlang cookie is
START_SECONDS = 90.0
GUEST = "guest:guest"


class ClusterError(Exception):
    """The cluster could not be started or joined; the message says what to do."""


@dataclass(frozen=True)
class Node:
    name: str  # the short name, e.g. taskwire-a
    amqp_port: int
    dist_port: int
    management_port: int | None
    directory: Path

    @property
    def nodename(self) -> str:
        return f"{self.name}@localhost"

    def url(self, vhost: str) -> str:
        return f"amqp://{GUEST}@127.0.0.1:{self.amqp_port}/{vhost}"


def nodes(profile: Profile) -> list[Node]:
    """The profile's broker nodes; none for a profile that uses the machine's RabbitMQ."""
    return [Node(name=f"taskwire-{chr(ord('a') + i)}", amqp_port=profile.broker_port + i,
                 dist_port=20000 + profile.broker_port + i,
                 management_port=10000 + profile.broker_port if i == 0 else None,
                 directory=profile.state_dir / "rabbitmq" / f"taskwire-{chr(ord('a') + i)}")
            for i in range(profile.broker_nodes)]


def broker_urls(profile: Profile) -> str:
    """AMQP_URLS for the profile's processes: every node, the first first."""
    return ",".join(node.url(profile.amqp_vhost) for node in nodes(profile))


def start(profile: Profile) -> None:
    """Start the nodes that are not running, wait for all, join them into one cluster, make the vhost."""
    members = nodes(profile)
    if not members:
        return
    if os.geteuid() != 0:
        raise ClusterError(f"the {profile.name} profile runs its RabbitMQ nodes as the {BROKER_USER} user: "
                           "start it as root")
    for node in members:
        if not running(node):
            _write_files(node)
            subprocess.run(_as_broker_user(node, ["rabbitmq-server", "-detached"]), check=True,
                           capture_output=True)
    deadline = time.monotonic() + START_SECONDS
    for node in members:
        while not running(node):
            if time.monotonic() > deadline:
                raise ClusterError(f"{node.nodename} did not start within {START_SECONDS:.0f} s; "
                                   f"see {node.directory / 'log'}")
            time.sleep(0.5)
        ctl(node, "await_startup")
    first = members[0]
    for node in members[1:]:
        if first.nodename not in ctl(node, "cluster_status", "--formatter", "json"):
            ctl(node, "stop_app")
            ctl(node, "join_cluster", first.nodename)
            ctl(node, "start_app")
    if profile.amqp_vhost not in ctl(first, "list_vhosts", "name").split():
        ctl(first, "add_vhost", profile.amqp_vhost)
        ctl(first, "set_permissions", "-p", profile.amqp_vhost, "guest", ".*", ".*", ".*")


def stop(profile: Profile) -> None:
    """Stop every running node of the profile (each waits for its Erlang VM to exit)."""
    for node in nodes(profile):
        if running(node):
            ctl(node, "stop")


def clients_node(profile: Profile) -> Node:
    """The node most of the profile's connections are on (the first of AMQP_URLS that answered them)."""
    members = nodes(profile)
    ports = ctl(any_running(members), "list_connections", "-p", profile.amqp_vhost, "port", "--no-table-headers")
    counts = {node.name: ports.split().count(str(node.amqp_port)) for node in members}
    return max(members, key=lambda node: counts[node.name])


def leader_node(profile: Profile, queue: str) -> Node:
    """The node that leads a quorum queue (or a stream) of the profile's vhost."""
    members = nodes(profile)
    rows = ctl(any_running(members), "list_queues", "-p", profile.amqp_vhost, "name", "leader", "--no-table-headers")
    leaders = dict(line.split("\t", 1) for line in rows.splitlines() if "\t" in line)
    return next(node for node in members if node.nodename == leaders[queue].strip())


def any_running(members: list[Node]) -> Node:
    """The first node of `members` that answers its CLI."""
    for node in members:
        if running(node):
            return node
    raise ClusterError("no node of the cluster is running")


def kill(node: Node) -> None:
    """SIGKILL a node's Erlang VM, as a crash would: no goodbye to its peers or clients."""
    os.kill(int((node.directory / "pid").read_text().strip()), signal.SIGKILL)


def running(node: Node) -> bool:
    """Whether the node answers its CLI (its Erlang VM is up; the app may still be booting)."""
    return subprocess.run(_as_broker_user(node, ["rabbitmqctl", "-q", "-n", node.nodename, "eval", "ok."]),
                          capture_output=True).returncode == 0


def ctl(node: Node, *args: str) -> str:
    """rabbitmqctl against one node, as the broker's user; its output. Raises ClusterError on failure."""
    done = subprocess.run(_as_broker_user(node, ["rabbitmqctl", "-q", "-n", node.nodename, *args]),
                          capture_output=True, text=True)
    if done.returncode:
        raise ClusterError(f"rabbitmqctl {' '.join(args)} on {node.nodename} failed: {done.stderr.strip()}")
    return done.stdout


def _as_broker_user(node: Node, command: list[str]) -> list[str]:
    environment = {
        "HOME": BROKER_HOME,
        "RABBITMQ_NODENAME": node.nodename,
        "RABBITMQ_DIST_PORT": str(node.dist_port),
        "RABBITMQ_CONFIG_FILE": str(node.directory / "rabbitmq.conf"),
        "RABBITMQ_MNESIA_BASE": str(node.directory / "mnesia"),
        "RABBITMQ_LOG_BASE": str(node.directory / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.directory / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(node.directory / "pid"),
    }
    return ["runuser", "-u", BROKER_USER, "--", "env", *(f"{k}={v}" for k, v in environment.items()), *command]


def _write_files(node: Node) -> None:
    """The node's directories, config file and plugins file, owned by the broker's user."""
    for sub in ("mnesia", "log"):
        (node.directory / sub).mkdir(parents=True, exist_ok=True)
    config = [f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}"]
    plugins = "[]."
    if node.management_port is not None:
        config += [f"management.tcp.port = {node.management_port}", "management.tcp.ip = 127.0.0.1"]
        plugins = "[rabbitmq_management]."
    (node.directory / "rabbitmq.conf").write_text("\n".join(config) + "\n")
    (node.directory / "enabled_plugins").write_text(plugins + "\n")
    broker = pwd.getpwnam(BROKER_USER)
    for path in [node.directory.parent, node.directory, *node.directory.rglob("*")]:
        shutil.chown(path, broker.pw_uid, broker.pw_gid)
