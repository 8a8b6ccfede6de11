"""The soak's memory figures: every process of a supervisord tree, its RSS over time, and whether it stayed flat."""
from __future__ import annotations

import os
import statistics
import time

from stack import commands, render
from stack.config import Profile


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
    return parse_status(commands.supervisorctl(profile, "status"))


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


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


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


def flatness(samples: list[tuple[float, dict[str, int]]], first: tuple[float, float], last: tuple[float, float],
             tolerance_pct: float) -> dict[str, dict]:
    """Per process: median RSS (KiB) in the first and the last window, the change in %, the max over all samples.

    `first` and `last` are (start, end) times; a process is flat when |change| <= tolerance_pct.
    """
    def in_window(label, window):
        return [rss[label] for moment, rss in samples if window[0] <= moment <= window[1] and label in rss]

    figures = {}
    for label in sorted({label for _, rss in samples for label in rss}):
        start, end = in_window(label, first), in_window(label, last)
        everything = [rss[label] for _, rss in samples if label in rss]
        if not start or not end:
            figures[label] = {"start_kib": None, "end_kib": None, "change_pct": None, "max_kib": max(everything),
                              "flat": False, "why": "no sample in the first or the last window"}
            continue
        start_kib, end_kib = statistics.median(start), statistics.median(end)
        change = (end_kib - start_kib) * 100.0 / start_kib
        figures[label] = {"start_kib": round(start_kib), "end_kib": round(end_kib), "change_pct": round(change, 1),
                          "max_kib": max(everything), "samples": len(everything),
                          "flat": abs(change) <= tolerance_pct}
    return figures
