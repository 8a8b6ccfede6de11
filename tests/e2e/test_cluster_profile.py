"""The cluster profile: its stack on three RabbitMQ nodes of its own, joined into one cluster by the launcher.

Every process reaches the nodes through AMQP_URLS; the quorum queues and the feed stream have a member
on every node; a node SIGKILLed under load loses nothing (a short fault run; `make chaos CHAOS_ARGS="--only
cluster"` runs a longer one, chaos/__main__.py).
"""
import json
import os

import pytest
import requests

from broker import topology
from chaos.faults import FaultRun
from chaos.injectors import CLIENTS_NODE_KILL, LEADER_NODE_KILL
from chaos.plan import Plan
from harness import api
from harness.stack_runner import StackRunner, without_stack_settings
from stack import cluster
from stack.config import load_profile
from tests.support import wait_for

CLUSTER = load_profile("cluster")
ADMIN = ("cluster-admin", "cluster-admin-password")
# Taken at import, before other test layers change os.environ (as tests/e2e/support.py does for the test stack).
STACK = StackRunner(CLUSTER, without_stack_settings(os.environ))


@pytest.fixture(scope="module")
def cluster_stack():
    try:
        STACK.start()
        STACK.create_superuser(*ADMIN, "cluster-admin@example.com")
        yield STACK
    finally:
        STACK.stop()
    assert not any(cluster.running(node) for node in cluster.nodes(CLUSTER))  # stop stops the nodes too


def test_every_process_is_given_every_node_first_to_last(cluster_stack):
    urls = cluster_stack.process_env("tasks_outbox")["AMQP_URLS"].split(",")
    assert urls == [f"amqp://guest:guest@127.0.0.1:{port}/{CLUSTER.amqp_vhost}" for port in (5701, 5702, 5703)]


def test_the_queues_and_the_feed_have_a_member_on_every_node(cluster_stack):
    rows = cluster.ctl(cluster.nodes(CLUSTER)[0], "list_queues", "-p", CLUSTER.amqp_vhost, "name", "members",
                       "--no-table-headers")
    members = dict(line.split("\t", 1) for line in rows.splitlines() if "\t" in line)
    for queue in (topology.NOTIFY_TASKS_QUEUE, topology.TASKS_USERS_QUEUE, topology.FEED_STREAM):
        assert all(node.nodename in members[queue] for node in cluster.nodes(CLUSTER)), (queue, members[queue])


def test_a_task_change_goes_through_the_cluster_to_a_notification(cluster_stack):
    """users_svc's event tells tasks_svc of the new user; tasks_svc's, the notification worker of the task."""
    gateway = CLUSTER.gateway_url
    admin = api.login(gateway, *ADMIN)
    user = api.register(gateway, "cluster" + os.urandom(5).hex(), "password-of-a-cluster-user")

    def assigned():
        response = requests.post(f"{gateway}/api/tasks/", headers=api.bearer(admin["token"]), timeout=10,
                                 json={"title": "through the cluster", "assigned_user": user.id})
        return response.json() if response.status_code == 201 else None
    task = wait_for(assigned, timeout=15, interval=0.2, message=f"user {user.id} known to tasks_svc")

    def notified():
        return any(n["task_id"] == task["id"] for page in api.notification_pages(gateway, user.token) for n in page)
    wait_for(notified, timeout=15, message="the assignee's notification")


def test_killing_a_broker_node_under_load_loses_nothing(cluster_stack):
    """The fault run, short: the node the clients are on is SIGKILLed, then the notification worker's queue's
    leader, each started again after 3 s; every event, notification and socket message must arrive once."""
    plan = Plan(changes=80, seconds=20, broker_restarts=0, publisher_kills=0, consumer_kills=0, postgres_restarts=0,
                node_kills=2, users=3, writers=3, final_changes=10, wait_for_soak=False)
    report = FaultRun(CLUSTER.gateway_url, CLUSTER, ADMIN, plan, log=print).run()
    summary = {key: report[key] for key in ("failures", "requests", "events", "notifications", "failover")}
    summary["websocket"] = report["websocket"]["totals"] | {"resuming": report["websocket"]["resuming"]["totals"]}
    assert report["ok"], json.dumps(summary, indent=1)
    assert [fault["fault"] for fault in report["faults"]] == [CLIENTS_NODE_KILL, LEADER_NODE_KILL]
    assert report["events"]["events"] == report["requests"]["changes_committed"] >= 80
    assert report["failover"]["never_flowed"] == 0
    print(json.dumps(report["failover"]))
