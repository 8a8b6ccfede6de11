"""docker-compose.yml, the Dockerfiles and the gateway's compose config, checked without a Docker engine."""
import fnmatch
import json
import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from stack import config, render
from taskwire_common import settings as taskwire_settings

REPO = Path(__file__).resolve().parents[2]
# The Compose Specification schema as the docker-compose 1.29.2 wheel on PyPI ships it
# (compose/config/compose_spec.json, Apache-2.0), unmodified.
SCHEMA = Path(__file__).with_name("compose-spec.json")
LOCAL_ONLY_ENV = {"PATH", "PYTHONPATH", "PYTHONUNBUFFERED"}
HEALTHY = {"condition": "service_healthy"}
# On this machine only unless GATEWAY_PUBLISH or RABBITMQ_CONSOLE_PUBLISH say otherwise (make compose-test picks
# ports of its own).
PUBLISHED = {"gateway": ["${GATEWAY_PUBLISH:-127.0.0.1:8000}:8000"],
             "rabbitmq": ["${RABBITMQ_CONSOLE_PUBLISH:-127.0.0.1:15672}:15672"],
             "prometheus": ["127.0.0.1:9090:9090"], "grafana": ["127.0.0.1:3000:3000"]}  # the last two: monitoring
VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dev():
    return config.load_profile("dev")


def example_env() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, enough for this file."""
    def substitute(match):
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise KeyError(f"{name} is required: {argument}")
        return argument or ""
    return VARIABLE.sub(substitute, value)


def depends_on_closure(services: dict, name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for dependency in services[todo.pop()].get("depends_on", {}):
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def normalised(command: str) -> list[str]:
    """A command with its --bind address reduced to the port: local and compose bind differently."""
    words = shlex.split(command)
    if "--bind" in words:
        at = words.index("--bind") + 1
        words[at] = words[at].rpartition(":")[2]
    return words


def test_compose_file_follows_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft201909Validator(schema).iter_errors(compose)]
    assert errors == []


def test_every_local_process_is_a_compose_service_with_its_command_and_variables(services, dev):
    for proc in dev.processes:
        assert proc.name in services, f"{proc.name} (stack/processes.toml) has no compose service"
        service = services[proc.name]
        assert normalised(service["command"]) == normalised(proc.command), proc.name
        if proc.port:
            assert f"--bind 0.0.0.0:{proc.port}" in service["command"], proc.name
        wanted = set(config.process_env(dev, proc, environ={})) - LOCAL_ONLY_ENV
        missing = wanted - set(service["environment"])
        assert not missing, f"{proc.name} lacks {sorted(missing)} in docker-compose.yml"


def test_each_database_is_migrated_once_before_its_service_starts(services, dev):
    for proc in dev.processes:
        if not proc.migrations:
            continue
        migrators = [name for name, s in services.items()
                     if s.get("command") == f"flask --app {proc.flask_app} db upgrade"]
        assert len(migrators) == 1, f"one migration service for {proc.name}"
        migrator = services[migrators[0]]
        assert migrator["restart"] == "no"
        assert migrator["environment"]["DATABASE_URL"] == services[proc.name]["environment"]["DATABASE_URL"]
        assert services[proc.name]["depends_on"][migrators[0]] == {
            "condition": "service_completed_successfully"}


def test_services_wait_for_the_health_of_what_they_need(services, dev):
    values = example_env()
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}
            if condition == HEALTHY:
                assert "healthcheck" in services[dependency], f"{name} waits on {dependency}"
        database_url = interpolate(service.get("environment", {}).get("DATABASE_URL", ""), values)
        if database_url:
            assert urlsplit(database_url).hostname in depends_on_closure(services, name), name
    for proc in dev.processes:
        needs = depends_on_closure(services, proc.name)
        assert "rabbitmq" in needs, proc.name
        if proc.name != "users_svc":
            assert "users_svc" in needs, f"{proc.name} needs the revocation snapshot or users"
    assert set(services["gateway"]["depends_on"]) == {p.name for p in dev.processes if p.port}


def test_no_worker_waits_for_the_service_whose_health_asks_for_that_worker(services):
    # tasks_svc's and notify_svc's /healthz fail while nobody consumes their worker's queue: a worker started only
    # once its service is healthy would never start (found by make compose-test's first run).
    for worker, service in (("tasks_worker", "tasks_svc"), ("notify_worker", "notify_svc")):
        assert service not in depends_on_closure(services, worker), worker


def test_web_services_check_their_own_health_endpoint(services, dev):
    for proc in dev.processes:
        if proc.port:
            probe = " ".join(services[proc.name]["healthcheck"]["test"])
            assert f"http://127.0.0.1:{proc.port}/healthz" in probe, proc.name


def test_only_the_gateway_and_the_broker_console_publish_ports(services):
    assert {name: s["ports"] for name, s in services.items() if "ports" in s} == PUBLISHED
    assert not any("container_name" in s for s in services.values()), "container_name blocks --scale"


def production_settings(service, values, monkeypatch):
    env = {k: interpolate(str(v), values) for k, v in service["environment"].items()}
    assert env["TASKWIRE_ENV"] == "production"
    for key in set(env) | {"DATABASE_URL"}:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return taskwire_settings.read_service_settings(
        "service", "db" if "DATABASE_URL" in env else None, taskwire_settings.ServiceSettings)


def test_production_refuses_the_examples_placeholders_and_takes_real_secrets(services, monkeypatch):
    """.env.example's values are placeholders: a service started with them as they are refuses to start; with
    each replaced by a real secret, it starts."""
    example = example_env()
    real = {name: secrets.token_urlsafe(36) if "change-me" in value else value for name, value in example.items()}
    python_services = {name: s for name, s in services.items() if s.get("build") == "."}
    assert len(python_services) > len({p.name for p in config.load_profile("dev").processes})
    for service in python_services.values():
        with pytest.raises(taskwire_settings.ConfigurationError, match="documented placeholder"):
            taskwire_settings.refuse_development_defaults(production_settings(service, example, monkeypatch))
        taskwire_settings.refuse_development_defaults(production_settings(service, real, monkeypatch))


def test_every_required_variable_is_in_the_example():
    text = (REPO / "docker-compose.yml").read_text()
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) == ":?"}
    optional = {m.group(1) for m in VARIABLE.finditer(text)} - required
    assert required <= set(example_env()), "docker-compose.yml requires what .env.example lacks"
    assert not [m for m in VARIABLE.finditer(text) if m.group(1) in optional and not m.group(2)]


def test_broker_loads_the_generated_topology_on_the_vhost_the_services_use(services):
    broker = services["rabbitmq"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in broker["volumes"] if volume.startswith("./"))
    conf = (REPO / "broker" / "rabbitmq.conf").read_text()
    definitions_dir = re.search(r"^load_definitions\s*=\s*(\S+)", conf, re.M).group(1)
    assert Path(mounts["./broker/definitions.json"]).parent == Path(definitions_dir)
    assert mounts["./broker/rabbitmq.conf"].startswith("/etc/rabbitmq/conf.d/")
    for source in mounts:
        assert (REPO / source).is_file(), source
    vhosts = [v["name"] for v in json.loads((REPO / "broker" / "definitions.json").read_text())["vhosts"]]
    assert vhosts == ["/"]
    assert services["tasks_svc"]["environment"]["AMQP_URL"].endswith("@rabbitmq:5672/%2F")


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "gateway/Dockerfile"])
def test_every_dockerfile_copy_source_is_in_the_build_context(dockerfile):
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines()
               if line and not line.startswith("#")]
    for line in (REPO / dockerfile).read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        for source in words[1:-1]:
            path = source.rstrip("/")
            assert (REPO / path).exists(), f"{dockerfile}: COPY {source} does not exist"
            parts = Path(path).parts
            prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
            assert not [p for p in prefixes for pattern in ignored if fnmatch.fnmatch(p, pattern)], \
                f"{dockerfile}: COPY {source} is excluded by .dockerignore"


def test_compose_gateway_finds_services_through_docker_dns(services, dev):
    conf = render.compose_nginx_conf()
    assert "resolver 127.0.0.11 valid=10s" in conf
    # A static upstream group would resolve once at start and never see new replicas.
    assert not re.search(r"^\s*upstream\s", conf, re.M)
    for name in render.BACKENDS.values():
        assert f"set ${name} {name}:{dev.process(name).port};" in conf
    dockerfile = (REPO / "gateway" / "Dockerfile").read_text()
    assert "python -m stack.render compose" in dockerfile and render.COMPOSE_STATE_DIR in dockerfile
    assert services["gateway"]["build"] == {"context": ".", "dockerfile": "gateway/Dockerfile"}


@pytest.mark.skipif(not shutil.which("nginx", path="/usr/sbin:/usr/bin"), reason="nginx not installed")
def test_compose_gateway_config_passes_nginx_t(tmp_path):
    for name in render.NGINX_TEMP_DIRS:
        (tmp_path / "tmp" / name).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render.compose_nginx_conf(state_dir=str(tmp_path)))
    nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
