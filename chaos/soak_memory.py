"""The soak's memory verdict: whether every process's RSS stayed flat (the samples come from harness.procfs)."""
from __future__ import annotations

import statistics


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
