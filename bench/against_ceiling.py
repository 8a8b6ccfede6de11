"""An HTTP scenario measured against its ceiling in the same run: alternating rounds, CPU per request from /proc.

Each round runs the same request with the same load (wrk, 2 threads, 32 connections) first through
Taskwire's gateway, then through the ceiling's (bench/ceiling.py); before and after each run every
process a request passes through is read from /proc, and the run's CPU is divided by its requests.
What is reported is each side's median over the rounds, and Taskwire's fraction of the ceiling: the
median of the rounds' own fractions. The machine's load average during the rounds goes with them. A
busy machine slows both sides alike, so the fraction travels where the absolute figure does not.
"""
from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2

from harness import procfs, wrk
from harness.stack_runner import StackRunner
from stack import render

from .ceiling_stack import CeilingStack

RABBITMQ_COMMANDS = {"beam.smp", "erl_child_setup", "inet_gethost", "epmd"}
# PostgreSQL's own processes, which work for every database: the WAL writer flushes every commit.
POSTGRES_SHARED = ("walwriter", "checkpointer", "background writer", "autovacuum launcher")


@dataclass(frozen=True)
class Request:
    """What wrk sends: the path (the same on both gateways), the caller's token, the method and body."""

    path: str
    token: str
    method: str = "GET"
    body: str | None = None


class CpuMeter:
    """CPU seconds so far of each group of processes: every program of the stack (with its workers), the
    ceiling's processes, PostgreSQL's backends of the stack's databases and its shared writers, RabbitMQ.

    RabbitMQ is one node for every stack on the machine, so its figure includes other stacks' work.
    """

    def __init__(self, stack: StackRunner, ceiling: CeilingStack):
        self.stack, self.ceiling = stack, ceiling
        self.databases = [stack.database_url(name) for name in ("users_svc", "tasks_svc", "notify_svc")]
        self.database_names = [url.rsplit("/", 1)[1] for url in self.databases]

    def groups(self) -> dict[str, list[int]]:
        profile = self.stack.profile
        tree = procfs.children_by_parent()
        supervisord = int(render.supervisor_paths(profile)["pid"].read_text().strip())
        labels = procfs.label_processes(supervisord, procfs.program_pids(profile), tree)
        groups: dict[str, list[int]] = {}
        for label, pid in labels.items():
            groups.setdefault(label.split("/")[0], []).append(pid)
        groups["ceiling"] = [pid for process in self.ceiling.processes
                             for pid in [process.pid, *descendants(process.pid, tree)]]
        groups["postgresql"] = self.postgres_pids()
        groups["rabbitmq"] = [pid for pid, command in commands().items() if command in RABBITMQ_COMMANDS]
        return groups

    def postgres_pids(self) -> list[int]:
        with psycopg2.connect(self.databases[0]) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE (datname = ANY(%s) AND pid <> pg_backend_pid()) "
                           "OR backend_type = ANY(%s)", (self.database_names, list(POSTGRES_SHARED)))
            return [pid for (pid,) in cursor.fetchall()]

    def snapshot(self) -> dict[tuple[str, int], float]:
        seconds = {}
        for group, pids in self.groups().items():
            for pid in pids:
                try:
                    seconds[(group, pid)] = procfs.cpu_seconds(pid)
                except OSError:
                    pass  # it exited while we looked
        return seconds


def cpu_ms_per_request(before: dict[tuple[str, int], float], after: dict[tuple[str, int], float],
                       requests: int) -> dict[str, float]:
    """Each group's CPU between two snapshots, in ms per request (a process new since `before` counts from 0)."""
    by_group: dict[str, float] = {}
    for (group, pid), seconds in after.items():
        by_group[group] = by_group.get(group, 0.0) + seconds - before.get((group, pid), 0.0)
    per_request = {group: round(seconds * 1000 / max(requests, 1), 3) for group, seconds in by_group.items()
                   if seconds > 0}
    return {**per_request, "total": round(sum(per_request.values()), 3)}


def descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        kids = tree.get(frontier.pop(), [])
        found += kids
        frontier += kids
    return found


def commands() -> dict[int, str]:
    names = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    names[int(entry)] = f.read().strip()
            except OSError:
                pass
    return names


class AgainstCeiling:
    """Runs requests on both gateways in alternating rounds; `settle` waits for what a request set off."""

    def __init__(self, taskwire_url: str, ceiling: CeilingStack, meter: CpuMeter, log: Callable[[str], None],
                 rounds: int, seconds: float):
        self.taskwire_url, self.ceiling, self.meter, self.log = taskwire_url, ceiling, meter, log
        self.rounds, self.seconds = rounds, seconds

    def run(self, request: Request, settle: Callable[[], None] = lambda: None) -> dict[str, Any]:
        script = wrk.lua_script(request.method, request.body)
        sides = {"taskwire": self.taskwire_url, "ceiling": self.ceiling.gateway_url}
        for url in sides.values():  # warm-up: pools filled, statements cached
            wrk.run_with_token(url + request.path, request.token, 2, wrk.THREADS * 16, script)
        settle()
        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
        loads = [os.getloadavg()[0]]
        for number in range(self.rounds):
            for side, url in sides.items():
                before = self.meter.snapshot()
                figures = wrk.run_with_token(url + request.path, request.token, self.seconds, 32, script)
                if figures["non_2xx"] or figures["socket_errors"]:  # a rate of errors measures nothing
                    raise RuntimeError(f"{side} answered {request.method} {request.path} with {figures['non_2xx']} "
                                       f"errors ({figures['socket_errors'] or 'no socket errors'})")
                settle()
                figures["cpu_ms_per_request"] = cpu_ms_per_request(before, self.meter.snapshot(), figures["requests"])
                runs[side].append(figures)
                loads.append(os.getloadavg()[0])
            self.log(f"  round {number + 1}/{self.rounds}: taskwire {runs['taskwire'][-1]['requests_per_s']:.0f} "
                     f"req/s ({runs['taskwire'][-1]['cpu_ms_per_request']['total']} ms CPU each), ceiling "
                     f"{runs['ceiling'][-1]['requests_per_s']:.0f} req/s "
                     f"({runs['ceiling'][-1]['cpu_ms_per_request']['total']} ms); load {loads[-1]:.1f}")
        taskwire, ceiling = (summary(runs[side]) for side in sides)
        # Each round's two runs are back to back, so their ratio sees the same machine; the median of
        # those ratios shrugs off a round that another tenant of the machine slowed on one side only.
        fractions = [mine["requests_per_s"] / bare["requests_per_s"]
                     for mine, bare in zip(runs["taskwire"], runs["ceiling"], strict=True)]
        return {"requests_per_s": taskwire["requests_per_s"], "ceiling_requests_per_s": ceiling["requests_per_s"],
                "fraction": round(statistics.median(fractions), 3),
                "round_fractions": [round(fraction, 3) for fraction in fractions],
                "cpu_ms_per_request": taskwire["cpu_ms_per_request"],
                "ceiling_cpu_ms_per_request": ceiling["cpu_ms_per_request"],
                "load_1min": {"min": round(min(loads), 2), "max": round(max(loads), 2)},
                "runs": runs}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians of one side's rounds: requests per second and each group's CPU per request."""
    groups = {group for run in runs for group in run["cpu_ms_per_request"]}
    return {"requests_per_s": round(statistics.median(run["requests_per_s"] for run in runs), 1),
            "cpu_ms_per_request": {group: round(statistics.median(run["cpu_ms_per_request"].get(group, 0.0)
                                                                  for run in runs), 3)
                                   for group in sorted(groups)}}
