"""The shipped Prometheus configs and Grafana dashboard name only metrics and paths Taskwire has."""
import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
METRIC = re.compile(r"\btaskwire_[a-z_]+")


def documented_metrics() -> set[str]:
    """The metric names of docs/metrics.md's table (counters with their _total)."""
    table = (REPO / "docs" / "metrics.md").read_text()
    return set(re.findall(r"^\| `(taskwire_[a-z_]+)` \|", table, re.M))


def test_every_dashboard_query_names_a_documented_metric():
    dashboard = json.loads((REPO / "deploy" / "grafana" / "dashboards" / "taskwire.json").read_text())
    known = documented_metrics()
    used = {re.sub(r"_(bucket|count|sum)$", "", name) for panel in dashboard["panels"]
            for target in panel["targets"] for name in METRIC.findall(target["expr"])}
    assert used and used <= known, used - known
    datasource = yaml.safe_load((REPO / "deploy" / "grafana" / "provisioning" / "datasources" /
                                 "prometheus.yml").read_text())["datasources"][0]
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {datasource["uid"]}


def test_every_documented_metric_is_on_the_dashboard():
    dashboard = (REPO / "deploy" / "grafana" / "dashboards" / "taskwire.json").read_text()
    assert [name for name in documented_metrics() if name not in dashboard] == []


def test_the_scrape_configs_cover_the_four_services():
    local = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    assert sorted(job["metrics_path"] for job in local["scrape_configs"]) == [
        "/metrics/notifications", "/metrics/tasks", "/metrics/users", "/metrics/ws"]
    compose = yaml.safe_load((REPO / "deploy" / "prometheus-compose.yml").read_text())
    found = [(sd["names"][0], sd["port"]) for job in compose["scrape_configs"] for sd in job["dns_sd_configs"]]
    assert sorted(found) == [
        ("notify_outbox", 9100), ("notify_svc", 8003), ("notify_worker", 9100), ("tasks_outbox", 9100),
        ("tasks_svc", 8002), ("tasks_worker", 9100), ("users_outbox", 9100), ("users_svc", 8001), ("ws_relay", 8004)]


def test_every_compose_process_without_a_web_port_serves_its_metrics_where_prometheus_looks():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    portless = {name for name, spec in services.items()
                if "python -m" in str(spec.get("command", "")) and "signing_keys" not in str(spec.get("command"))}
    assert portless == {"users_outbox", "tasks_outbox", "tasks_worker", "notify_outbox", "notify_worker"}
    for name in portless:
        assert services[name]["environment"]["METRICS_LISTEN"] == "0.0.0.0:9100", name
