"""The mass-resume scenario's steps (bench/scenarios.py runs them): sockets note their cursor and leave, the run's
events are published, then all resume at once. One socket per cursor resumes first on its own and is checked
message by message; the others compare what they receive with it (bench/resume_clients.py)."""
from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import requests

from harness.procfs import cpu_seconds
from harness.wait import poll, wait_until

from .resume_clients import FeedSocket, FeedSockets, Replayed, Run

__all__ = ["MassResume", "Run"]

RESUME_TIMEOUT = 600.0


def spread(seconds: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(seconds), 2), "max": round(max(seconds), 2)}


class MassResume:
    """The steps of make bench's mass_resume scenario against one relay process (bench/scenarios.py runs them):
    sockets note their cursor and leave, the run's events are published, all resume at once."""

    def __init__(self, relay: str, url: str, run: Run, publish: Callable[[list[tuple[str, int]]], None],
                 log: Callable[[str], None]):
        """`publish` publishes a synthetic task event for each (title, task id)."""
        self.relay, self.url, self.run, self.publish, self.log = relay, url, run, publish, log

    def relay_sockets(self) -> int | None:
        """The sockets the relay holds, from its /healthz; None while it is not healthy."""
        detail = requests.get(f"{self.relay}/healthz", timeout=5).json()["checks"]["events"]["detail"]
        return detail.get("sockets") if isinstance(detail, dict) else None

    def note_cursors(self, count: int) -> list[str]:
        """Open `count` sockets at once, take the last cursor each received (its hello's), close them all."""
        sockets = FeedSockets(self.url)
        sockets.open([FeedSocket(since=None, run=None) for _ in range(count)])
        try:
            wait_until(lambda: all(s.last_cursor or s.ended for s in sockets.sockets), 120, f"{count} hellos")
            sockets.raise_failures("opening")
        finally:
            sockets.close()
        cursors = [s.last_cursor for s in sockets.sockets if s.last_cursor is not None]
        self.log(f"  {count} sockets opened and closed; their cursors: {sorted(set(cursors))[:3]}")
        return cursors

    def publish_while_away(self) -> None:
        """Once the relay has let go of every socket, publish the run's events; returns when the relay has them
        all in its history (a socket kept open meanwhile received them)."""
        run = self.run
        wait_until(lambda: self.relay_sockets() == 0, 60, "the relay to close its sockets")
        sentinel = FeedSockets(self.url)
        watcher = FeedSocket(since=None, run=run)
        sentinel.open([watcher])
        try:
            wait_until(lambda: watcher.last_cursor or watcher.ended, 30, "the sentinel's hello")
            self.publish([(f"{run.name} {n}", run.first_id + n) for n in range(run.events)])
            wait_until(lambda: watcher.events == run.events or sentinel.failures(), 120, "the relay to read the events")
            sentinel.raise_failures("the sentinel")
        finally:
            sentinel.close()
        wait_until(lambda: self.relay_sockets() == 0, 60, "the relay to close the sentinel")
        self.log(f"  {run.events} events published while the sockets were away")

    def probe_replays(self, cursors: list[str]) -> dict[str, Replayed]:
        """For each cursor, one socket resumes from it alone and is checked message by message up to the run's last
        event: what it received is what every socket resuming from that cursor must receive first."""
        probes = FeedSockets(self.url)
        probes.open([FeedSocket(since=cursor, run=self.run, recording=[]) for cursor in sorted(set(cursors))])
        try:
            wait_until(lambda: all(p.caught_up_at or p.problems or p.ended for p in probes.sockets), 120,
                       "the probes' replays")
            probes.raise_failures("probing")
        finally:
            probes.close()
        wait_until(lambda: self.relay_sockets() == 0, 60, "the relay to close the probes")
        self.log(f"  {len(probes.sockets)} probe(s) resumed alone, every message checked")
        return {probe.since: Replayed.of(probe) for probe in probes.sockets if probe.since is not None}

    def resume_at_once(self, cursors: list[str], worker: int) -> dict[str, Any]:
        """Every socket resumes from its cursor at once, and a marker is published as they do. A socket is live
        once it has every event it missed (its time counts from the start of all the handshakes); all are live
        once each also has the marker.

        Each socket compares what it receives with its cursor's probe (probe_replays) byte for byte, and checks
        message by message what follows (the marker) or what differs."""
        run = self.run
        replays = self.probe_replays(cursors)
        clients = [FeedSocket(since=cursor, run=run, replayed=replays[cursor]) for cursor in cursors]
        sockets = FeedSockets(self.url)
        relay_before, own_before = cpu_seconds(worker), own_cpu_seconds()
        started = time.time()
        try:
            sockets.open(clients)
            self.publish([(f"{run.name} live", run.marker_id)])
            marker_after = time.time() - started
            poll(lambda: all(c.marker_at for c in clients) or sockets.failures(), RESUME_TIMEOUT, interval=0.05)
            finished = time.time()
            relay_cpu, own_cpu = cpu_seconds(worker) - relay_before, own_cpu_seconds() - own_before
            time.sleep(1.0)  # not measured: a message replayed twice or after the marker would come now
            sockets.raise_failures("resuming")
        finally:
            sockets.close()
        if not all(c.marker_at for c in clients):
            live = sum(1 for c in clients if c.marker_at)
            raise RuntimeError(f"only {live} of {len(clients)} resumed sockets were live after {RESUME_TIMEOUT:.0f} s "
                               f"(fewest events replayed: {min(c.events for c in clients)} of {run.events})")
        all_live = max(c.marker_at or 0.0 for c in clients) - started
        self.log(f"  {len(clients)} sockets resumed: all live after {all_live:.2f} s; relay CPU {relay_cpu:.1f} s")
        return {"all_live_s": round(all_live, 2),
                "socket_live_s": spread([(c.caught_up_at or 0.0) - started for c in clients]),
                "handshake_s": spread([(c.opened_at or 0.0) - started for c in clients]),
                "marker_published_after_s": round(marker_after, 2), "relay_cpu_s": round(relay_cpu, 2),
                "relay_cores": round(relay_cpu / (finished - started), 2), "bench_cpu_s": round(own_cpu, 2),
                "messages": sum(c.events + 1 for c in clients), "other_messages": sum(c.others for c in clients),
                "sockets_compared_byte_for_byte": sum(1 for c in clients if c.compared and not c.compared.diverged)}


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
