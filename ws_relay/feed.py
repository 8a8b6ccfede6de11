"""This relay process's reader of the feed stream: it keeps the hub's history and fans every entry out live.

Starting, it appends a mark of its own to the stream, learns about where the stream ends (the
first entry delivered from "last"; the mark makes sure there is one) and reads from the
`history_size` entries before that into the history. Once it has read its own mark it has read
everything published before it started: the hub is ready and sockets are served.

After a broker restart or a lost connection it reads on from the last entry it has, checking
that the stream still holds that very entry; sockets stay open meanwhile and miss nothing, since
what was published in between is in the stream. If the stream no longer holds it (the stream was
deleted and made again, or retention overtook a long outage), the history is reset and every
socket is closed (1012): their cursors name a feed that is gone, and they resume with
`resync_required`.
"""
from __future__ import annotations

import logging
import threading
import time

import gevent
import pika
import pika.exceptions

from broker.topology import FeedRetention, declare_feed
from taskwire_common.messaging import Topology, connect, run_reconnecting

from .history import Cursor
from .hub import SERVICE_RESTART, Hub
from .stream import StreamConsumer, StreamReader, publish_mark

log = logging.getLogger(__name__)

# How long a stream has to deliver the entry the reader knows is there (the tail, or the last entry).
DELIVERY_WAIT_SECONDS = 10.0
# Entries fanned out between two turns of the sockets' greenlets. A burst (the backlog published
# when the broker comes back) must not fill the send list of a socket that reads well but has not
# had a turn yet: keep this well under the smallest WS_SEND_QUEUE_SIZE.
FANOUT_SLICE = 8


class FeedBroken(Exception):
    """The stream does not continue the history this process has."""


class FeedReader:
    """Start, stop, health and the reconnect loop of the stream reader; runs in a thread (a greenlet under gevent)."""

    name = "event feed"

    def __init__(self, hub: Hub, amqp_url: str, topology: Topology, retention: FeedRetention) -> None:
        self.hub = hub
        self.amqp_url, self.topology, self.retention = amqp_url, topology, retention
        self.reading = False
        self.last_error = "not started"
        self.stop_event = threading.Event()
        self.mark = ""  # the fingerprint of this reader's last mark: the hub is ready once it is read

    def start(self) -> None:
        threading.Thread(target=self.run, name="event-feed", daemon=True).start()

    def stop(self) -> None:
        self.stop_event.set()

    def health(self) -> tuple[bool, object]:
        if self.reading and self.hub.ready:
            return True, {"sockets": len(self.hub), "cursor": str(self.hub.tail)}
        return False, self.last_error or "reading the feed's history"

    def run(self) -> None:
        run_reconnecting(self._follow, self.stop_event, (pika.exceptions.AMQPError, OSError, FeedBroken), self.name,
                         on_error=self._interrupted)

    def _interrupted(self, error: Exception) -> None:
        self.reading = False
        self.last_error = f"{type(error).__name__}: {error}"
        if isinstance(error, FeedBroken):
            self.hub.reset(SERVICE_RESTART, "The feed's history was reset; reconnect")

    def _follow(self, backoff) -> None:
        connection = connect(self.amqp_url)
        try:
            self.topology.declare(connection.channel())
            declare_feed(connection, self.retention)
            self.mark = publish_mark(connection)
            tail = self.hub.tail
            start = tail.offset if tail else max(0, self._stream_end() - self.hub.history.capacity + 1)
            consumer = StreamConsumer(connection, start)
            self.reading, self.last_error = True, ""
            backoff.reset()
            log.info("%s reading the stream from offset %s", self.name, start)
            self._read(consumer, tail)
        finally:
            self.reading = False
            if connection.is_open:
                try:
                    connection.close()
                except pika.exceptions.AMQPError as error:  # a stream refuses the rejects pika sends at cancel
                    log.debug("%s closed with %s", self.name, error)

    def _stream_end(self) -> int:
        """The offset of an entry at about the stream's end: the first delivered from "last" (RabbitMQ's last
        chunk; some versions give a later entry or an earlier chunk, which only moves where the history starts)."""
        reader = StreamReader(self.amqp_url, "last")
        try:
            deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                if entries := reader.take(min(left, 1.0)):
                    return entries[0].offset
            raise FeedBroken("the stream delivered nothing from its end, though it holds our mark")
        finally:
            reader.close()

    def _read(self, consumer: StreamConsumer, tail: Cursor | None) -> None:
        """Publish every entry after `tail` to the hub; the hub is ready once this reader's mark was read."""
        unchecked = tail  # after a reconnection: the stream must deliver this very entry first
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while not self.stop_event.is_set():
            entries = consumer.take(1.0)
            if unchecked is not None:
                entries = [entry for entry in entries if entry.offset >= unchecked.offset]
                if not entries:
                    if time.monotonic() > deadline:
                        raise FeedBroken(f"the stream no longer delivers offset {unchecked.offset}")
                    continue
                if entries[0].cursor != unchecked:
                    raise FeedBroken(f"the stream holds {entries[0].cursor} where this process read {unchecked}")
                unchecked = None
                entries = entries[1:]
            for number, entry in enumerate(entries, 1):
                self.hub.publish(entry)
                if number % FANOUT_SLICE == 0:
                    gevent.sleep(0)  # the sockets woken so far send what they were offered
            if not self.hub.ready and any(entry.cursor.fingerprint == self.mark for entry in entries):
                self.hub.mark_ready()
                log.info("%s synced at %s; %s entries in memory", self.name, self.hub.tail, len(self.hub.history))
