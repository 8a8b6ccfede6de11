"""When a create's transaction committed, as PostgreSQL tells a listener: the start of commit → socket.

An event's `time` is taken before its statement runs, so timing from it counts the statement and
the commit's write to disk too; the create's HTTP answer comes some time after the commit. The
moment the outbox publisher acts on is the NOTIFY its trigger sends at commit
(taskwire_common/outbox.py). The bench listens on that channel as the publisher does, in a process
of its own that does nothing else (`python -m bench.commits DATABASE_URL`), so that its note of
each notification's arrival is not held up by the bench's own greenlets: it prints one time a line.
"""
from __future__ import annotations

import select
import subprocess
import sys
import time

import gevent

from harness.wait import poll

LISTENING = "listening"


class CommitWatch:
    """The arrival time of every outbox NOTIFY of one database while it runs; its creates must be the only writes
    to that outbox meanwhile, one statement each (commits_of checks that)."""

    def __init__(self, database_url: str, ready_seconds: float = 10.0):
        self.process = subprocess.Popen([sys.executable, "-m", "bench.commits", database_url],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        with gevent.Timeout(ready_seconds, RuntimeError("the commit listener did not start")):
            if self.process.stdout.readline().strip() != LISTENING:
                raise RuntimeError("the commit listener failed to start")
        self.arrivals: list[float] = []
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.arrivals.append(float(line))

    def commits_of(self, sent: list[float], wait_seconds: float = 10.0) -> list[float]:
        """For creates made one after another, given as when each was sent: the moment each committed.

        One notification per create, in the creates' order: any other count, or one noticed before its
        create was sent, means another writer used the outbox meanwhile, and the figures would be wrong."""
        poll(lambda: len(self.arrivals) >= len(sent), wait_seconds, interval=0.05)
        if len(self.arrivals) != len(sent):
            raise RuntimeError(f"{len(self.arrivals)} outbox notifications for {len(sent)} creates: something "
                               "else wrote to the outbox, or a create's notification never came")
        for number, (sent_at, arrived) in enumerate(zip(sent, self.arrivals, strict=True)):
            if arrived < sent_at:
                raise RuntimeError(f"create {number}'s commit was noticed at {arrived:.4f}, before it was sent "
                                   f"({sent_at:.4f})")
        return list(self.arrivals)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._reader.kill()


def listen(database_url: str) -> None:
    """Print `listening`, then the arrival time of each outbox notification, one a line, until killed."""
    import psycopg2  # here, not at the top: the bench process itself never listens

    from taskwire_common.outbox import NOTIFY_CHANNEL

    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
    print(LISTENING, flush=True)
    while True:
        select.select([connection], [], [])
        arrived = time.time()
        connection.poll()
        for _notify in connection.notifies:
            print(f"{arrived:.6f}", flush=True)
        connection.notifies.clear()


if __name__ == "__main__":
    listen(sys.argv[1])
