"""The definitions file the broker container loads is the topology the services declare."""
import json
from pathlib import Path

from broker import topology

DEFINITIONS = Path(__file__).resolve().parents[2] / "broker" / "definitions.json"


def test_definitions_file_matches_the_topology():
    assert json.loads(DEFINITIONS.read_text()) == topology.definitions(), \
        "regenerate with: python -m broker.topology > broker/definitions.json"


def test_every_routing_key_in_the_design_is_named():
    assert {topology.TASK_CREATED, topology.TASK_UPDATED, topology.TASK_DELETED,
            topology.NOTIFICATION_CREATED, topology.TOKEN_REVOKED} == {
        "task.created", "task.updated", "task.deleted", "notification.created", "auth.token_revoked"}
