"""The shared messaging pieces without a broker: no topology of their own, feeds that outlive bad events."""
import ast
import json
import time
from pathlib import Path

from flask import Flask, current_app

from broker import topology
from taskwire_common import contracts
from taskwire_common.auth import Principal
from taskwire_common.internal import InternalClient
from taskwire_common.revocation import RevocationFeed, RevocationList
from taskwire_common.worker import in_app_context

SHARED_PACKAGE = Path(__file__).resolve().parents[2] / "taskwire_common"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def principal(jti: str, user_id: int = 1) -> Principal:
    now = int(time.time())
    return Principal(user_id=user_id, username="u", role="user", jti=jti, issued_at=now, expires_at=now + 60,
                     token_version=0)


def test_the_shared_package_declares_no_exchange_or_queue_of_its_own():
    importers = {path.name for path in SHARED_PACKAGE.glob("*.py")
                 if any(module == "broker" or module.startswith("broker.") for module in imported_modules(path))}
    assert importers == set()


def test_a_malformed_revocation_event_is_dropped_and_the_next_one_applied():
    revocations = RevocationList()
    feed = RevocationFeed(revocations, "amqp://unused", topology, InternalClient("http://unused", "unused"))
    feed._receive(b"{not json")
    feed._receive(json.dumps(contracts.user_created({"id": 1}, version=1, actor_id=None)).encode())
    user = {"id": 1, "username": "u", "role": "user", "is_active": True}
    feed._receive(json.dumps(contracts.user_created(user, version=1, actor_id=None)).encode())
    feed._receive(json.dumps(contracts.token_revoked(1, jti="t1", expires_at=time.time() + 60)).encode())
    assert revocations.is_revoked(principal("t1")) and not revocations.is_revoked(principal("t2"))


def test_a_worker_handler_runs_inside_its_app_context():
    app = Flask("worker-under-test")
    handle = in_app_context(app, lambda event: (current_app.name, event["id"]))
    event = contracts.token_revoked(1, token_version=2)
    assert handle(event) == ("worker-under-test", event["id"])
