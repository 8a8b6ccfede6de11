"""A heartbeat file for processes without an HTTP port (workers, outbox publishers), for a health check to read.

A process given HEARTBEAT_FILE touches it from its main loop while it is doing its job: a worker
while it is connected and consuming, an outbox publisher while it publishes or stands by for the
leader lock. Stuck, or reconnecting to a broker or database that is down, it stops touching it.
`python -m taskwire_common.heartbeat FILE [--max-age SECONDS]` exits 0 while the file is fresh and 1
otherwise: what a container health check (docker-compose.yml) runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

MIN_INTERVAL = 1.0  # seconds between two touches
DEFAULT_MAX_AGE = 30.0


class Heartbeat:
    def __init__(self, path: str | None, clock: Callable[[], float] = time.monotonic):
        self.path = Path(path) if path else None
        self._clock = clock
        self._last = float("-inf")

    @classmethod
    def from_environment(cls) -> Heartbeat:
        return cls(os.environ.get("HEARTBEAT_FILE", "").strip() or None)

    def beat(self) -> None:
        """Touch the file (at most once per MIN_INTERVAL); nothing without HEARTBEAT_FILE."""
        if self.path is None or self._clock() - self._last < MIN_INTERVAL:
            return
        self.path.touch()
        self._last = self._clock()


def age_of(path: Path, now: float | None = None) -> float | None:
    """Seconds since the file was last touched; None when there is no such file."""
    try:
        touched = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return (time.time() if now is None else now) - touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskwire_common.heartbeat",
                                     description="Exit 0 while a heartbeat file is fresh, 1 otherwise.")
    parser.add_argument("file")
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE, help="seconds (default 30)")
    args = parser.parse_args(argv)
    age = age_of(Path(args.file))
    if age is None:
        print(f"unhealthy: no heartbeat yet ({args.file})")
        return 1
    if age > args.max_age:
        print(f"unhealthy: last heartbeat {age:.0f} s ago")
        return 1
    print(f"healthy: last heartbeat {age:.1f} s ago")
    return 0


if __name__ == "__main__":
    sys.exit(main())
