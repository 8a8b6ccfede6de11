"""docker-compose.cluster.yml, the three-node broker over docker-compose.yml, checked without a Docker engine."""
import re
from pathlib import Path

import pytest
import yaml

from stack import config
from taskwire_common.settings import broker_urls
from tests.unit.test_compose import REPO, SCHEMA, example_env, interpolate

NODES = ["rabbitmq", "rabbitmq-b", "rabbitmq-c"]


def merged(base: dict, override: dict) -> dict:
    """What `docker compose -f base -f override` runs: mappings merged key by key, a service's volumes by their
    target path (an override's mount replaces the base's at the same path), other lists joined."""
    out = dict(base)
    for key, value in override.items():
        if key == "volumes" and isinstance(value, list) and isinstance(base.get(key), list):
            targets = {volume.split(":")[1]: volume for volume in base[key]}
            targets.update({volume.split(":")[1]: volume for volume in value})
            out[key] = list(targets.values())
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merged(base[key], value)
        elif isinstance(value, list) and isinstance(base.get(key), list):
            out[key] = base[key] + [item for item in value if item not in base[key]]
        else:
            out[key] = value
    return out


@pytest.fixture(scope="module")
def override():
    return yaml.safe_load((REPO / "docker-compose.cluster.yml").read_text())


@pytest.fixture(scope="module")
def services(override):
    return merged(yaml.safe_load((REPO / "docker-compose.yml").read_text()), override)["services"]


def test_both_files_and_their_merge_follow_the_compose_specification(override):
    import json

    import jsonschema
    schema = json.loads(SCHEMA.read_text())
    base = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    for document in (override, merged(base, override)):
        assert [error.message for error in jsonschema.Draft201909Validator(schema).iter_errors(document)] == []


def test_every_process_that_uses_the_broker_is_given_every_node_and_waits_for_all(services):
    values = {**example_env(), "RABBITMQ_USER": "taskwire", "RABBITMQ_PASSWORD": "secret"}
    for process in config.load_profile("dev").processes:
        service = services[process.name]
        urls = broker_urls(interpolate(service["environment"]["AMQP_URLS"], values))
        assert [url.split("@")[1].split(":")[0] for url in urls] == NODES, process.name
        assert all(url.endswith(":5672/%2F") and "taskwire:secret@" in url for url in urls)
        for node in NODES:
            assert service["depends_on"][node] == {"condition": "service_healthy"}, process.name


def test_the_nodes_find_each_other_by_the_names_in_cluster_conf(services):
    conf = (REPO / "broker" / "cluster.conf").read_text()
    listed = re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+ = rabbit@(\S+)$", conf, re.M)
    assert listed == [services[node]["hostname"] for node in NODES] == NODES
    data = set()
    for node in NODES:
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services[node]["volumes"]}
        assert mounts["/etc/rabbitmq/conf.d/30-cluster.conf"] == "./broker/cluster.conf"
        assert mounts["/usr/local/bin/taskwire-entrypoint.sh"] == "./broker/docker-entrypoint.sh"
        data.add(mounts["/var/lib/rabbitmq"])
        assert services[node]["environment"]["TASKWIRE_ERLANG_COOKIE"] == (
            "${RABBITMQ_ERLANG_COOKIE:?set RABBITMQ_ERLANG_COOKIE in .env}")
        for source in mounts.values():
            if source.startswith("./"):
                assert (REPO / source).is_file(), source
    assert len(data) == 3, "each node keeps its own data"
    assert "ports" not in services["rabbitmq-b"] and "ports" not in services["rabbitmq-c"]


def test_no_node_declares_the_topology_before_the_others_have_joined(services):
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services["rabbitmq"]["volumes"]}
    topology = mounts["/etc/rabbitmq/definitions.d/topology.json"]
    assert topology == "./broker/cluster-definitions.json"
    assert yaml.safe_load(Path(REPO, topology).read_text()) == {"vhosts": [{"name": "/"}]}


def test_the_example_holds_a_placeholder_cookie_the_nodes_refuse():
    assert "change-me" in example_env()["RABBITMQ_ERLANG_COOKIE"]
    entrypoint = (REPO / "broker" / "docker-entrypoint.sh").read_text()
    assert '""|change-me*)' in entrypoint and '-lt 32' in entrypoint


def test_on_the_local_images_the_3_13_only_settings_are_left_out(override):
    local = yaml.safe_load((REPO / "docker-compose.cluster-local.yml").read_text())["services"]
    target = "/etc/rabbitmq/conf.d/31-membership.conf"
    for node in NODES:
        mounted = [volume for volume in override["services"][node]["volumes"] if volume.split(":")[1] == target]
        assert mounted == [f"./broker/cluster-membership.conf:{target}:ro"], node
        assert f"/dev/null:{target}:ro" in local[node]["volumes"], node
    assert "continuous_membership_reconciliation" in (REPO / "broker" / "cluster-membership.conf").read_text()
    assert "continuous_membership_reconciliation" not in (REPO / "broker" / "cluster.conf").read_text()
