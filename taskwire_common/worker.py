"""The bootstrap every background process shares (`python -m <service>.worker` and `.publisher`)."""
from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from flask import Flask

from .consumer import BatchHandler, EventConsumer
from .logs import configure_logging
from .messaging import Topology
from .metrics import serve_process_metrics
from .settings import ServiceSettings, refuse_development_defaults

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class Loop(Protocol):
    """A foreground loop whose run() returns soon after `stop` is set."""

    stop: threading.Event

    def run(self) -> None: ...


def prepare_process(settings: ServiceSettings) -> None:
    """What a process without an app does first (the app factory does the same): log, refuse development secrets."""
    configure_logging(settings.log_level, settings.service)
    refuse_development_defaults(settings)


def run_until_signalled(loop: Loop, name: str) -> None:
    """Run `loop` in the foreground; SIGTERM or SIGINT sets its `stop`, so it finishes the work in hand and returns."""

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s received signal %d; stopping", name, signum)
        loop.stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    loop.run()


def run_consumer(create_app: Callable[[], Flask], topology: Topology, queue: str, handle: BatchHandler,
                 on_connected: Callable[[], None] | None = None) -> None:
    """A service's worker: consume `queue` until signalled, with handle() and on_connected() in the app's context."""
    app = create_app()  # which configures logging and refuses development defaults in production
    settings: ServiceSettings = app.config["TASKWIRE_SETTINGS"]
    serve_process_metrics(settings.metrics_listen)
    consumer = EventConsumer(settings.amqp_url, topology, queue, in_app_context(app, handle),
                             on_connected=in_app_context(app, on_connected) if on_connected else None)
    run_until_signalled(consumer, f"consumer of {queue}")


def in_app_context(app: Flask, function: Callable[P, R]) -> Callable[P, R]:
    """`function`, run inside an application context of `app` (the database session is bound to one)."""

    @functools.wraps(function)
    def in_context(*args: P.args, **kwargs: P.kwargs) -> R:
        with app.app_context():
            return function(*args, **kwargs)

    return in_context
