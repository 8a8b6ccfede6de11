"""A ws_relay process started on its own beside a profile's stack, reached directly on a port of its own: the
bench's one-process socket scenarios and the e2e test of a second relay instance."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import requests

from stack.config import REPO

from .stack_runner import StackRunner
from .wait import poll


@contextmanager
def standalone_relay(stack: StackRunner, port: int, settings: dict[str, str] | None = None,
                     output: IO[bytes] | int = subprocess.DEVNULL) -> Iterator[subprocess.Popen]:
    """The relay (gunicorn, one worker unless `settings` say otherwise), healthy; stopped on leaving.
    `settings` are environment variables over the stack's own for ws_relay."""
    env = {**stack.process_env("ws_relay"), "WEB_CONCURRENCY": "1", **(settings or {})}
    relay = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:taskwire_common.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", "ws_relay.wsgi:app"],
        cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)

    def healthy() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False
    try:
        if not poll(healthy, 30, interval=0.2):
            raise RuntimeError(f"the relay started on its own at port {port} did not become healthy in 30 s")
        yield relay
    finally:
        relay.terminate()
        relay.wait(timeout=30)
