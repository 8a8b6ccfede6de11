"""The local stack launcher: profiles, per-process environment and rendered configs."""
import configparser
import dataclasses
import itertools
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from supervisor.datatypes import dict_of_key_value_pairs

from stack import config, render

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LINUX_EPHEMERAL_LOW = 32768  # the kernel's default first ephemeral port, where the file is unreadable
# What every profile shares on this machine: PostgreSQL, AMQP, the management console, epmd, and
# RabbitMQ's Erlang distribution port (AMQP + 20000).
INFRASTRUCTURE_PORTS = {5432, 5672, 15672, 4369, 25672}


def ephemeral_port_low() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return LINUX_EPHEMERAL_LOW


def listening_ports(profile: config.Profile) -> set[int]:
    return {profile.gateway_port} | {p.port for p in profile.processes if p.port}


def every_profile() -> list[config.Profile]:
    return [config.load_profile(name) for name in config.profile_names()]


@pytest.fixture(params=["dev", "test"])
def profile(request, tmp_path):
    return dataclasses.replace(config.load_profile(request.param), var_root=tmp_path)


def test_test_profile_uses_its_own_ports_databases_and_vhost():
    test = config.load_profile("test")
    assert test.gateway_port == 18000
    assert {p.name: p.port for p in test.processes if p.port} == {
        "users_svc": 18001, "tasks_svc": 18002, "notify_svc": 18003, "ws_relay": 18004}
    assert {p.database for p in test.processes} == {
        None, "users_db_test", "tasks_db_test", "notifications_db_test"}
    assert test.amqp_vhost == "taskwire_test"


def test_dev_profile_env_points_at_dev_resources():
    dev = config.load_profile("dev")
    env = config.process_env(dev, dev.process("tasks_svc"), environ={"PATH": "/bin"})
    assert env["TASKWIRE_ENV"] == "development"
    assert env["DATABASE_URL"] == "postgresql://taskwire:taskwire@127.0.0.1:5432/tasks_db"
    assert env["AMQP_URL"] == "amqp://guest:guest@127.0.0.1:5672/taskwire"
    assert env["USERS_SERVICE_URL"] == "http://127.0.0.1:8001"
    assert env["LOG_LEVEL"] == "DEBUG" and env["WEB_CONCURRENCY"] == "2"
    assert "LOGIN_MAX_FAILURES" not in env and "INTERNAL_API_KEY" not in env
    # users_svc alone holds the private keys that sign tokens.
    assert config.process_env(dev, dev.process("users_svc"))["JWT_SIGNING_KEY_DIR"] == str(dev.signing_key_dir)
    assert [proc.name for proc in dev.processes if "JWT_SIGNING_KEY_DIR" in config.process_env(dev, proc)] == [
        "users_svc"]


def test_test_profile_sets_login_limits_and_open_registration():
    test = config.load_profile("test")
    env = config.process_env(test, test.process("users_svc"), environ={})
    assert env["LOGIN_MAX_FAILURES"] == "5"
    assert env["LOGIN_MAX_FAILURES_PER_ADDRESS"] == "1000"
    assert env["LOGIN_THROTTLE_SECONDS"] == "60"
    assert env["REGISTRATION_OPEN"] == "true"


def test_caller_environment_overrides_profile_defaults():
    dev = config.load_profile("dev")
    caller = {"LOG_LEVEL": "INFO", "INTERNAL_API_KEY": "s3cret", "UNRELATED": "x"}
    env = config.process_env(dev, dev.process("users_svc"), environ=caller)
    assert env["LOG_LEVEL"] == "INFO" and env["INTERNAL_API_KEY"] == "s3cret"
    assert "UNRELATED" not in env


def test_template_placeholders_are_replaced_and_nginx_variables_kept():
    text = "listen ${GATEWAY_LISTEN}; set $x $request_id;"
    assert render.render_template(text, {"GATEWAY_LISTEN": "1.2.3.4:80"}) == \
        "listen 1.2.3.4:80; set $x $request_id;"


def test_template_placeholder_without_value_is_an_error():
    with pytest.raises(KeyError, match="WS_UPSTREAM"):
        render.render_template("server ${WS_UPSTREAM};", {})


def test_supervisord_conf_has_every_program_with_its_environment(profile):
    parser = configparser.RawConfigParser()
    parser.read(render.write_supervisord_conf(profile))
    names = {p.name for p in profile.processes} | {"gateway"}
    assert {s.removeprefix("program:") for s in parser.sections() if s.startswith("program:")} == names
    for proc in profile.processes:
        section = parser[f"program:{proc.name}"]
        assert section["autorestart"] == "true" and section["stopasgroup"] == "true"
        env = dict_of_key_value_pairs(section["environment"].replace("%%", "%"))
        assert env["TASKWIRE_ENV"] == config.process_env(profile, proc)["TASKWIRE_ENV"]
        if proc.database:
            assert env["DATABASE_URL"].endswith("/" + proc.database)


@pytest.mark.skipif(not shutil.which("nginx", path="/usr/sbin:/usr/bin"), reason="nginx not installed")
def test_rendered_nginx_conf_passes_nginx_t(profile):
    render.write_nginx_conf(profile)
    result = subprocess.run(render.nginx_command(profile, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_callers_database_url_never_points_every_service_at_one_database():
    dev = config.load_profile("dev")
    environ = {"DATABASE_URL": "postgresql://somewhere/else"}
    urls = {config.process_env(dev, proc, environ=environ)["DATABASE_URL"]
            for proc in dev.processes if proc.database}
    assert "postgresql://somewhere/else" not in urls and len(urls) == 3


def test_every_profiles_ports_lie_below_the_ephemeral_range():
    low = ephemeral_port_low()
    for profile in every_profile():
        ports = listening_ports(profile)
        assert max(ports) < low, f"{profile.name} listens on {sorted(ports)}, in the ephemeral range from {low}"


def test_no_two_profiles_port_ranges_overlap():
    spans = []
    for profile in every_profile():
        ports = listening_ports(profile)
        spans.append((min(ports), max(ports), profile.name))
    assert len(spans) >= 6, "dev, test, bench, console, chaos and soak at least"
    for (_, high, name), (next_low, _, next_name) in itertools.pairwise(sorted(spans)):
        assert high < next_low, f"{name} (up to {high}) overlaps {next_name} (from {next_low})"


def test_no_profile_listens_on_a_postgresql_or_rabbitmq_port():
    for profile in every_profile():
        taken = listening_ports(profile) & INFRASTRUCTURE_PORTS
        assert not taken, f"{profile.name} listens on {sorted(taken)}"


def test_each_profiles_websocket_origins_are_its_own_gateway():
    for profile in every_profile():
        origins = config.process_env(profile, profile.process("ws_relay"), environ={})["WS_ALLOWED_ORIGINS"]
        assert {urlsplit(origin).port for origin in origins.split(",")} == {profile.gateway_port}, profile.name


def test_a_clusters_broker_nodes_have_ports_of_their_own_and_every_process_gets_them_all():
    from stack import cluster

    profile = config.load_profile("cluster")
    nodes = cluster.nodes(profile)
    assert [node.nodename for node in nodes] == ["taskwire-a@localhost", "taskwire-b@localhost", "taskwire-c@localhost"]
    broker_ports = {port for node in nodes for port in (node.amqp_port, node.dist_port, node.management_port) if port}
    assert len(broker_ports) == 7 and max(broker_ports) < ephemeral_port_low()
    assert not broker_ports & INFRASTRUCTURE_PORTS
    assert not any(broker_ports & listening_ports(other) for other in every_profile())
    env = config.process_env(profile, profile.process("tasks_outbox"), environ={})
    assert env["AMQP_URLS"] == ",".join(f"amqp://guest:guest@127.0.0.1:{port}/taskwire_cluster"
                                        for port in (5701, 5702, 5703))
    dev = config.load_profile("dev")
    assert cluster.nodes(dev) == [] and "AMQP_URLS" not in config.process_env(dev, dev.process("tasks_outbox"), {})
