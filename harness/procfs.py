"""Processes as /proc shows them: resident memory, children, and every process of a supervisord tree."""
from __future__ import annotations

import os
import time

from stack import render
from stack.config import Profile

from .stack_runner import supervisorctl
from .wait import wait_until


def rss_kib(pid: int) -> int | None:
    """VmRSS of a process in KiB; None once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used, from /proc/<pid>/stat (utime and stime, in clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the name in parentheses may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(child) for child in f.read().split()]


def first_child(pid: int, timeout: float = 30.0) -> int:
    """The first child a process starts (a gunicorn master's worker), once there is one."""
    return wait_until(lambda: children(pid), timeout, f"a child of process {pid}")[0]


def children_by_parent() -> dict[int, list[int]]:
    """Every process on the machine by its parent pid (from /proc/<pid>/stat)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # it exited while we looked
        # The command name is in parentheses and may hold spaces: the fields after the last ')' are safe.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def program_pids(profile: Profile) -> dict[str, int]:
    """{program: pid} of the running programs, from `supervisorctl status`."""
    return parse_status(supervisorctl(profile, "status"))


def parse_status(output: str) -> dict[str, int]:
    pids = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "RUNNING" and parts[2] == "pid":
            pids[parts[0].split(":")[-1]] = int(parts[3].rstrip(","))
    return pids


def label_processes(supervisord_pid: int, programs: dict[str, int], tree: dict[int, list[int]]) -> dict[str, int]:
    """{label: pid}: supervisord, each program, and each program's descendants as `<program>/worker<n>`."""
    labels = {"supervisord": supervisord_pid}
    for name, pid in sorted(programs.items()):
        labels[name] = pid
        descendants, frontier = [], [pid]
        while frontier:
            kids = sorted(tree.get(frontier.pop(), []))
            descendants += kids
            frontier += kids
        for number, child in enumerate(sorted(descendants), start=1):
            labels[f"{name}/worker{number}"] = child
    return labels


class MemorySampler:
    """Samples the RSS of every process of one stack; notices a process replaced by another pid."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self.pid_file = render.supervisor_paths(profile)["pid"]
        self.labels: dict[str, int] = {}
        self.samples: list[tuple[float, dict[str, int]]] = []  # (time, {label: KiB})
        self.replaced: list[dict] = []  # processes that died and came back under another pid

    def discover(self) -> dict[str, int]:
        supervisord = int(self.pid_file.read_text().strip())
        return label_processes(supervisord, program_pids(self.profile), children_by_parent())

    def sample(self) -> None:
        labels = self.discover()
        for label, pid in labels.items():
            if label in self.labels and self.labels[label] != pid:
                self.replaced.append({"process": label, "old_pid": self.labels[label], "new_pid": pid,
                                      "at": round(time.time(), 1)})
        self.labels.update(labels)
        rss = {label: kib for label, pid in labels.items() if (kib := rss_kib(pid)) is not None}
        self.samples.append((time.time(), rss))
