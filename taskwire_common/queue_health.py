"""A /healthz check that a service's work queue is consumed and not far behind, from the broker's own counts.

A web service answers from its database whatever its worker does: notify_svc served stale lists with a
200 while nothing turned task events into notifications. This check asks RabbitMQ (a passive declare of
the queue: its consumer count and the messages waiting) and reports the worker down when nobody
consumes the queue, and lagging when more than `max_backlog` messages wait. The answer is kept for
CACHE_SECONDS, so frequent health checks cost the broker one short connection every few seconds.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pika
import pika.exceptions

from .messaging import connect

CACHE_SECONDS = 2.0


class QueueHealth:
    def __init__(self, amqp_url: str, queue: str, max_backlog: int, clock: Callable[[], float] = time.monotonic):
        self.amqp_url, self.queue, self.max_backlog = amqp_url, queue, max_backlog
        self._clock = clock
        self._lock = threading.Lock()
        self._answer: tuple[bool, object] = (False, "not checked yet")
        self._asked_at = float("-inf")
        self.counts: tuple[int, int] | None = None  # (consumers, messages waiting) at the last answer, if any

    def __call__(self) -> tuple[bool, object]:
        with self._lock:
            if self._clock() - self._asked_at >= CACHE_SECONDS:
                self._answer, self._asked_at = self._ask(), self._clock()
            return self._answer

    def _ask(self) -> tuple[bool, object]:
        try:
            connection = connect(self.amqp_url)
            try:
                method = connection.channel().queue_declare(self.queue, passive=True).method
            finally:
                if connection.is_open:
                    connection.close()
        except (pika.exceptions.AMQPError, OSError) as error:
            self.counts = None
            return False, f"RabbitMQ cannot tell how {self.queue} is consumed: {type(error).__name__}"
        self.counts = (method.consumer_count, method.message_count)
        return judge(self.queue, method.consumer_count, method.message_count, self.max_backlog)


def judge(queue: str, consumers: int, waiting: int, max_backlog: int) -> tuple[bool, object]:
    if consumers == 0:
        return False, f"nobody consumes {queue} ({waiting} messages waiting): its worker is down"
    if waiting > max_backlog:
        return False, f"{waiting} messages wait in {queue}, more than {max_backlog}: its worker lags"
    return True, {"consumers": consumers, "waiting": waiting}
