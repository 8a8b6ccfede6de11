"""`python -m bench [--quick] [--only NAME ...]`: run the scenarios, print progress, write JSON and markdown."""
from gevent import monkey

monkey.patch_all()  # thousands of WebSocket clients as greenlets; must precede every other import

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

from stack.config import load_profile  # noqa: E402

from .report import markdown_table, met, regressions  # noqa: E402
from .scenarios import Bench  # noqa: E402

RESULTS = Path(__file__).with_name("results")
ORDER = ["start_time", "list_tasks", "list_tasks_admin", "create_tasks", "list_notifications", "event_latency",
         "sockets_and_fanout", "mass_resume", "stream_resume", "outbox_burst", "consumer_drain"]


def log(message: str) -> None:
    print(message, flush=True)


def machine() -> dict:
    def version(*command):
        try:
            return subprocess.run(command, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    memory_kib = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(memory_kib / 1024 / 1024, 1),
            "python": platform.python_version(), "postgresql": version("psql", "--version"),
            "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
            "kernel": platform.release()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs and fewer sockets (a smoke test)")
    parser.add_argument("--only", nargs="*", choices=ORDER, help="run only these scenarios")
    parser.add_argument("--profile", default="bench", help="the stack profile to run on (default: bench)")
    args = parser.parse_args()
    # 10,000 sockets need 10,000 descriptors here and in the relay this process starts.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    bench = Bench(load_profile(args.profile), log, quick=args.quick)
    results = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": args.quick,
               "machine": machine(), "scenarios": {}}
    names = args.only or ORDER
    log(f"bench: {', '.join(names)} on {results['machine']['cores']} cores; "
        "the load generator shares them")
    if "start_time" not in names:
        bench.stack.start()
    try:
        for name in names:
            if name == "start_time":
                log("== make start until healthy")
                results["scenarios"][name] = bench.start_time()
                bench.prepare()
                continue
            if not bench.tokens:
                bench.prepare()
            log(f"== {name}")
            started = time.monotonic()
            results["scenarios"][name] = getattr(bench, name)()
            log(f"   done in {time.monotonic() - started:.0f} s: "
                f"{json.dumps({k: v for k, v in results['scenarios'][name].items() if k != 'runs'})}")
    finally:
        bench.stop_ceiling()
        bench.stack.stop()  # the bench profile's ports free for the next run
    write(results)
    failures = regressions(results)
    for failure in failures:
        log(f"bench: REGRESSION: {failure}")
    return 1 if failures else 0


def write(results: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ") + ("-quick" if results["quick"] else "")
    table = markdown_table(results)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / f"{stamp}.md").write_text(table)
    print("\n" + table)
    print(f"bench: wrote bench/results/{stamp}.json and .md; targets met: {met(results)}")


if __name__ == "__main__":
    raise SystemExit(main())
