"""nginx answers TRACE itself with a 405; its Allow header must name the same methods as the services' routes."""
import re
from pathlib import Path

import pytest
from flask import Flask

TEMPLATE = Path(__file__).resolve().parents[2] / "gateway" / "nginx.conf.template"


def allow_map() -> list[tuple[re.Pattern, str]]:
    """The (regex, Allow) entries of the template's $taskwire_allow map, in order, and its default."""
    block = re.search(r"map \$request_uri \$taskwire_allow \{(.*?)\n    \}", TEMPLATE.read_text(), re.S).group(1)
    entries = []
    for line in block.splitlines():
        line = line.split("#")[0].strip()
        if line.startswith('"~'):
            pattern, value = re.fullmatch(r'"~(.*?)"\s+"(.*)";', line).groups()
            entries.append((re.compile(pattern), value))
        elif line.startswith("default"):
            entries.append((re.compile(""), re.fullmatch(r'default\s+"(.*)";', line).group(1)))
    return entries


def nginx_allow(request_uri: str) -> str:
    return next(value for pattern, value in allow_map() if pattern.search(request_uri))


def service_routes():
    """Every public route of the three services, with the methods Flask answers on it."""
    from notify_svc.api import blp as notifications
    from tasks_svc.api import blp as tasks
    from users_svc.api import blp as users

    app = Flask(__name__)
    for blueprint in (users, tasks, notifications):
        app.register_blueprint(blueprint)
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            yield re.sub(r"<int:\w+>", "42", rule.rule), ", ".join(sorted(rule.methods))


@pytest.mark.parametrize("path, methods", sorted(service_routes()))
def test_the_gateways_allow_names_each_routes_methods(path, methods):
    assert nginx_allow(path) == methods
    assert nginx_allow(path.replace("/api/", "/api/v1/", 1) + "?page=2") == methods


@pytest.mark.parametrize("prefix", ["auth", "tasks", "notifications"])
def test_openapi_documents_take_get(prefix):
    assert nginx_allow(f"/api/{prefix}/openapi.json") == "GET, HEAD, OPTIONS"


def test_unknown_api_paths_name_no_methods_and_console_files_get_and_head():
    assert nginx_allow("/api/tasks/abc/") == ""
    assert nginx_allow("/api/tasks/42/extra/") == ""
    assert nginx_allow("/index.html") == "GET, HEAD"


def test_the_asyncapi_document_takes_get_and_head():
    assert nginx_allow("/api/asyncapi.json") == "GET, HEAD"
    assert nginx_allow("/api/v1/asyncapi.json") == "GET, HEAD"
