"""`python -m chaos [--only faults fuzz soak] [--quick]`: break the chaos stack on purpose and report.

faults: 2,000 task changes through the gateway while RabbitMQ restarts, the outbox publisher and the
        notification consumer are SIGKILLed and PostgreSQL restarts (chaos/faults.py);
fuzz:   schemathesis against every service's OpenAPI document, 100 examples per operation
        (tests/e2e/test_api_fuzz.py, the same test make test runs with a few);
soak:   10 minutes at half the measured capacity with 1,000 sockets, one never reading
        (chaos/soak.py, on its own stack);
cluster: the fault run on the cluster profile (three RabbitMQ nodes of its own, stack/cluster.py):
        task changes while a broker node is SIGKILLed and started again, alternately the node the
        clients are connected to and the one leading the notification worker's queue.
Writes chaos/results/<date>.json and .md; exits 0 only if every part met every criterion.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from harness.stack_runner import StackRunner
from stack.config import REPO, load_profile

from .faults import FaultRun
from .plan import Plan

RESULTS = Path(__file__).with_name("results")
PARTS = ["faults", "fuzz", "soak", "cluster"]
ADMIN = ("chaos-admin", "chaos-admin-password")
CLUSTER_ADMIN = ("cluster-admin", "cluster-admin-password")


def log(message: str) -> None:
    print(message, flush=True)


def run_faults(quick: bool) -> dict:
    profile = load_profile("chaos")
    stack = StackRunner(profile)
    stack.start()
    stack.create_superuser(*ADMIN, "chaos-admin@example.com")
    plan = Plan(changes=300, seconds=40, broker_restarts=1, publisher_kills=2, consumer_kills=2) if quick else Plan()
    try:
        return FaultRun(profile.gateway_url, profile, ADMIN, plan, log).run()
    finally:
        stack.stop()


def run_cluster(quick: bool) -> dict:
    profile = load_profile("cluster")
    stack = StackRunner(profile)
    stack.start()
    stack.create_superuser(*CLUSTER_ADMIN, "cluster-admin@example.com")
    plan = Plan(changes=120 if quick else 600, seconds=30 if quick else 120, broker_restarts=0, publisher_kills=0,
                consumer_kills=0, postgres_restarts=0, node_kills=2 if quick else 4, wait_for_soak=False)
    try:
        return FaultRun(profile.gateway_url, profile, CLUSTER_ADMIN, plan, log).run()
    finally:
        stack.stop()


def run_fuzz(quick: bool) -> dict:
    examples = "20" if quick else "100"
    env = {**os.environ, "E2E_PROFILE": "chaos", "FUZZ_MAX_EXAMPLES": examples}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/e2e/test_api_fuzz.py"], cwd=REPO, env=env, capture_output=True, text=True)
    output = load_profile("chaos").log_dir / "fuzz.log"
    output.write_text(result.stdout + result.stderr)
    tail = result.stdout.strip().splitlines()[-15:]
    log("\n".join("   " + line for line in tail) + f"\n   the whole output: {output}")
    return {"ok": result.returncode == 0, "max_examples": int(examples), "exit_code": result.returncode,
            "seconds": round(time.monotonic() - started), "summary": tail, "output": str(output)}


def run_soak(quick: bool) -> dict:
    from . import soak
    return soak.run(log, duration_s=120 if quick else 600, sockets=1000)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=PARTS, help="run only these parts")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test of the tool)")
    args = parser.parse_args()
    results = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": args.quick, "parts": {}}
    for part in args.only or PARTS:
        log(f"== {part}")
        started = time.monotonic()
        results["parts"][part] = {"faults": run_faults, "fuzz": run_fuzz, "soak": run_soak,
                                  "cluster": run_cluster}[part](args.quick)
        log(f"   {part}: {'ok' if results['parts'][part]['ok'] else 'FAILED'} in {time.monotonic() - started:.0f} s")
    write(results)
    return 0 if all(part["ok"] for part in results["parts"].values()) else 1


def write(results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ") + ("-quick" if results["quick"] else "")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    summary = markdown(results)
    (RESULTS / f"{stamp}.md").write_text(summary)
    print("\n" + summary)
    print(f"chaos: wrote chaos/results/{stamp}.json and .md")


def markdown(results: dict) -> str:
    lines = [f"# make chaos, {results['date']}{' (quick)' if results['quick'] else ''}", ""]
    for part, title in (("faults", "Fault run"), ("cluster", "Fault run on the three-node broker cluster")):
        if part in results["parts"]:
            lines += fault_table(title, results["parts"][part])
    fuzz = results["parts"].get("fuzz")
    if fuzz:
        lines += ["## API fuzz", "", f"{fuzz['max_examples']} examples per operation, {fuzz['seconds']} s: "
                  f"{'ok' if fuzz['ok'] else 'FAILED'} ({fuzz['summary'][-1] if fuzz['summary'] else ''})", ""]
    soak = results["parts"].get("soak")
    if soak:
        lines += ["## Soak", "", "```", json.dumps({k: v for k, v in soak.items() if k != "samples"}, indent=2)[:4000],
                  "```", ""]
    return "\n".join(lines)


def fault_table(title: str, faults: dict) -> list[str]:
    lines = []
    if faults:
        injected: dict[str, int] = {}
        for fault in faults["faults"]:
            injected[fault["fault"]] = injected.get(fault["fault"], 0) + 1
        ws, resumed = faults["websocket"]["totals"], faults["websocket"]["resuming"]["totals"]
        lines += [f"## {title}", "", "| measure | value |", "| --- | --- |",
                  f"| changes committed | {faults['requests']['changes_committed']} in {faults['load_seconds']} s |",
                  f"| faults injected | {', '.join(f'{n} × {k}' for k, n in injected.items())} |",
                  f"| refused with 503 during the database outage | {faults['requests']['refused_503']} |",
                  f"| other request errors | {faults['requests']['error_count']} |",
                  f"| events lost / extra / out of order | {faults['events']['lost']} / {faults['events']['extra']}"
                  f" / {faults['events']['out_of_order_tasks']} |",
                  f"| events redelivered (same id, at-least-once) | {faults['events']['redelivered_copies']} |",
                  f"| notifications expected / stored | {faults['notifications']['expected']} / "
                  f"{faults['notifications']['stored']} |",
                  f"| notifications missing / doubled | {faults['notifications']['missing']} / "
                  f"{faults['notifications']['doubled_or_unexpected']} |",
                  f"| WebSocket sessions / events / gaps / leaks | {ws['sessions']} / {ws['events']} / {ws['gaps']}"
                  f" / {ws['leaks']} |",
                  f"| resuming clients: sockets (resumed) / events / gaps / duplicates / resync_required | "
                  f"{resumed['sessions']} ({resumed['resumed']}) / {resumed['events']} / {resumed['gaps']} / "
                  f"{resumed['duplicates'] + resumed['notifications_twice']} / {resumed['resyncs']} |",
                  f"| final round missed by reconnected clients | "
                  f"{faults['websocket']['final_round']['missing_at_watchers']} |",
                  f"| healthy afterwards, no manual restart | {faults['healthy_afterwards']} |",
                  *failover_rows(faults.get("failover")),
                  f"| verdict | {'ok' if faults['ok'] else 'FAILED: ' + ', '.join(faults['failures'])} |", ""]
    return lines


def failover_rows(failover: dict | None) -> list[str]:
    """The cluster part's figures: after each node kill, events flowing again and the longest delay."""
    if not failover:
        return []
    flowing, delay = failover["flowing_after_s"], failover["longest_delay_s"]
    per_kill = ", ".join(f"{entry['flowing_after_s']}" for entry in failover["per_kill"])
    return ["| events reaching sockets again after a node kill, s: p50 / max (each kill) | "
            + (f"{flowing['p50']} / {flowing['max']} ({per_kill})" if flowing else "never") + " |",
            "| longest delay of an event from 5 s before to 30 s after a kill, s: p50 / max | "
            + (f"{delay['p50']} / {delay['max']}" if delay else "none") + " |"]


if __name__ == "__main__":
    raise SystemExit(main())
