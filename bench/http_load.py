"""HTTP load with wrk: throughput, and latency at a paced rate (wrk's Lua `delay`)."""
from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse(output: str) -> dict:
    """Requests/s and the latency percentiles (ms) from `wrk --latency` output."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {}
    for percent, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        percentiles[f"p{percent}_ms"] = round(float(value) * UNITS[unit], 2)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    return {"requests_per_s": rate, **percentiles,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(0) if socket_errors else ""}


def lua_script(method: str = "GET", body: str | None = None, delay_ms: float | None = None) -> str:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines += [f"wrk.body = [[{body}]]", 'wrk.headers["Content-Type"] = "application/json"']
    if delay_ms is not None:
        lines += [f"function delay() return {delay_ms:.3f} end"]
    return "\n".join(lines) + "\n"


def run_wrk(url: str, token: str, seconds: int, connections: int, script: str, threads: int = 2) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.lua"
        path.write_text(script)
        output = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path),
             "-H", f"Authorization: Bearer {token}", url],
            capture_output=True, text=True, check=True).stdout
    return parse(output)


def median_of(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    return {k: round(statistics.median(run[k] for run in runs), 2) for k in keys} | {"runs": runs}


def throughput(url, token, *, method="GET", body=None, runs=3, seconds=10, connections=32, warmup=3, log=print):
    script = lua_script(method, body)
    run_wrk(url, token, warmup, connections, script)
    results = []
    for number in range(runs):
        results.append(run_wrk(url, token, seconds, connections, script))
        log(f"  run {number + 1}/{runs}: {results[-1]['requests_per_s']:.0f} req/s, "
            f"p99 {results[-1].get('p99_ms')} ms")
    return median_of(results)


def paced_latency(url, token, rate, *, method="GET", body=None, runs=3, seconds=10, connections=16, log=print):
    """Latency with the load held near `rate` requests/s (each connection waits between requests)."""
    script = lua_script(method, body, delay_ms=connections * 1000.0 / rate)
    results = []
    for number in range(runs):
        results.append(run_wrk(url, token, seconds, connections, script))
        log(f"  paced run {number + 1}/{runs}: {results[-1]['requests_per_s']:.0f} req/s, "
            f"p50 {results[-1].get('p50_ms')} ms, p99 {results[-1].get('p99_ms')} ms")
    return median_of(results)
