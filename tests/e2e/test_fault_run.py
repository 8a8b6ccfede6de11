"""The short fault run of make test: make chaos's run (chaos/faults.py) with fewer changes and faults.

Task changes through the gateway while RabbitMQ restarts, the outbox publisher and the notification
consumer are SIGKILLed twice each and PostgreSQL restarts; then every committed change must
have exactly one event, every notification must exist once, and every WebSocket client must
have seen what it may see and nothing else; clients that leave their socket every few seconds and
resume from their cursor must have missed nothing and seen nothing twice.
"""
import json

from chaos.faults import FaultRun
from chaos.plan import Plan
from tests.e2e.support import PROFILE


def test_under_faults_nothing_is_lost_doubled_or_leaked(gateway, admin):
    plan = Plan(changes=240, seconds=30, broker_restarts=1, publisher_kills=2, consumer_kills=2, postgres_restarts=1,
                users=3, writers=3, final_changes=10, wait_for_soak=False)
    report = FaultRun(gateway, PROFILE, (admin.username, admin.password), plan, log=print).run()
    summary = {key: report[key] for key in ("failures", "requests", "events", "notifications")}
    summary["websocket"] = report["websocket"]["totals"] | {"final": report["websocket"]["final_round"],
                                                            "resuming": report["websocket"]["resuming"]["totals"]}
    assert report["ok"], json.dumps(summary, indent=1)
    assert report["requests"]["changes_committed"] >= 240 and len(report["faults"]) == 6
    assert report["events"]["events"] == report["requests"]["changes_committed"]
    assert report["notifications"]["stored"] == report["notifications"]["expected"] > 0
    resuming = report["websocket"]["resuming"]["totals"]
    assert resuming["resumed"] >= 20 and resuming["events"] > 0, resuming  # they did leave and resume, often
