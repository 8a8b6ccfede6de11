"""How long losing a broker node holds events up: from each kill until events reach the sockets again.

For each kill at time K (seconds since the epoch), from the task events the always-connected
watchers received, each with the event's own time (`occurred_at`, taken by tasks_svc) and its
arrival:
- flowing again: the first arrival of an event that occurred after K, less K. The writers keep
  committing changes through the kill (the API does not need the broker), so this is how long the
  path from the outbox to the sockets was broken, plus one change's pacing;
- longest delay: the most any event that occurred in the DELAY_WINDOW seconds around K took to arrive.
"""
from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.ws import Watcher

DELAY_WINDOW = (-5.0, 30.0)  # seconds before and after a kill


def after_kills(kills: list[float], arrivals: list[tuple[float, float]]) -> list[dict]:
    """One entry per kill: `flowing_after_s` (None if no event occurred after it arrived) and `longest_delay_s`."""
    out = []
    for kill in kills:
        later = [arrived for occurred, arrived in arrivals if occurred >= kill]
        near = [arrived - occurred for occurred, arrived in arrivals
                if kill + DELAY_WINDOW[0] <= occurred < kill + DELAY_WINDOW[1]]
        out.append({"flowing_after_s": round(min(later) - kill, 2) if later else None,
                    "longest_delay_s": round(max(near), 2) if near else None})
    return out


def summary(entries: list[dict]) -> dict:
    """p50 and max of each figure over the kills (of the kills after which events did flow again)."""
    flowing = [e["flowing_after_s"] for e in entries if e["flowing_after_s"] is not None]
    delays = [e["longest_delay_s"] for e in entries if e["longest_delay_s"] is not None]
    return {"kills": len(entries), "never_flowed": len(entries) - len(flowing),
            "flowing_after_s": {"p50": round(statistics.median(flowing), 2), "max": max(flowing)} if flowing else None,
            "longest_delay_s": {"p50": round(statistics.median(delays), 2), "max": max(delays)} if delays else None}


def report(killed_at: list[float], watchers: list[Watcher]) -> dict:
    """The summary and each kill's figures, from the always-connected watchers' arrivals."""
    arrivals = [arrival for watcher in watchers for session in watcher.sessions for arrival in session.arrivals]
    entries = after_kills(killed_at, arrivals)
    return {**summary(entries), "per_kill": entries}
