"""HTTP load with wrk: its figures, a Lua script per request shape, throughput, and latency at a paced rate.

Debian's wrk has no constant-rate mode: a paced run gives each connection a pause between
requests with wrk's Lua `delay()`.
"""
from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
THREADS = 2


def parse(output: str) -> dict[str, Any]:
    """Requests/s and the latency percentiles (ms) from `wrk --latency` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise ValueError(f"not wrk output: {output[:200]!r}")
    percentiles = {}
    for percent, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        percentiles[f"p{percent}_ms"] = round(float(value) * UNITS[unit], 2)
    requests = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    return {"requests_per_s": float(rate.group(1)), "requests": int(requests.group(1)) if requests else 0,
            **percentiles,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(0) if socket_errors else ""}


def delay_function(delay_ms: float) -> str:
    """wrk's per-request pause in Lua (whole milliseconds are what it waits)."""
    return f"function delay() return {delay_ms:.3f} end"


def lua_script(method: str = "GET", body: str | None = None, delay_ms: float | None = None) -> str:
    """One request, repeated: its method and JSON body, and a pause before each when paced."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines += [f"wrk.body = [[{body}]]", 'wrk.headers["Content-Type"] = "application/json"']
    if delay_ms is not None:
        lines += [delay_function(delay_ms)]
    return "\n".join(lines) + "\n"


def run(url: str, script: str, seconds: float, connections: int, headers: Sequence[str] = (),
        threads: int = THREADS) -> str:
    """wrk's output for one run of `script` against `url`; raises if wrk fails."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.lua"
        path.write_text(script)
        header_args = [arg for header in headers for arg in ("-H", header)]
        return subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(path),
             *header_args, url], capture_output=True, text=True, check=True).stdout


def run_with_token(url: str, token: str, seconds: float, connections: int, script: str) -> dict[str, Any]:
    return parse(run(url, script, seconds, connections, headers=[f"Authorization: Bearer {token}"]))


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    return {k: round(statistics.median(run[k] for run in runs), 2) for k in keys} | {"runs": runs}


def repeated(url: str, token: str, script: str, runs: int, seconds: float, connections: int,
             describe: Callable[[int, dict[str, Any]], str], log: Callable[[str], None]) -> dict[str, Any]:
    """The median of `runs` runs, a progress line after each."""
    results = []
    for number in range(runs):
        results.append(run_with_token(url, token, seconds, connections, script))
        log(describe(number, results[-1]))
    return median_of(results)


def throughput(url: str, token: str, *, method: str = "GET", body: str | None = None, runs: int = 3,
               seconds: float = 10, connections: int = 32, warmup: float = 3,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Flat out: the median of `runs` runs after a warm-up."""
    script = lua_script(method, body)
    run_with_token(url, token, warmup, connections, script)
    return repeated(url, token, script, runs, seconds, connections, lambda number, figures: (
        f"  run {number + 1}/{runs}: {figures['requests_per_s']:.0f} req/s, p99 {figures.get('p99_ms')} ms"), log)


def paced_latency(url: str, token: str, rate: float, *, method: str = "GET", body: str | None = None,
                  runs: int = 3, seconds: float = 10, connections: int = 16,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """Latency with the load held near `rate` requests/s (each connection waits between requests)."""
    script = lua_script(method, body, delay_ms=connections * 1000.0 / rate)
    return repeated(url, token, script, runs, seconds, connections, lambda number, figures: (
        f"  paced run {number + 1}/{runs}: {figures['requests_per_s']:.0f} req/s, "
        f"p50 {figures.get('p50_ms')} ms, p99 {figures.get('p99_ms')} ms"), log)
