"""Bringing a resuming socket from its cursor to the live tail, without a gap and without a duplicate.

The hub's history serves recent cursors from memory. A cursor older than the history is read
from the feed stream on a connection of the socket's own, a few at a time per process
(`readers`), until the history reaches back to where the socket stands. Either way the socket
goes live only once it has been sent everything up to the tail (Hub.join_after).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .history import Cursor, Entry
from .hub import Connection, Hub
from .stream import StreamReader

log = logging.getLogger(__name__)

# How long a stream read waits for the next delivery before the relay gives up on the cursor.
STREAM_WAIT_SECONDS = 5.0


class CursorGone(Exception):
    """The stream no longer holds what follows the cursor (retention), or never held it (foreign)."""


class Replay:
    """One socket's way from its cursor to the tail; `step` is called whenever its queue is empty."""

    def __init__(self, hub: Hub, connection: Connection, cursor: Cursor, open_reader: Callable[[int], StreamReader],
                 readers: threading.Semaphore) -> None:
        self.hub, self.connection = hub, connection
        self.position = cursor.offset  # the last offset this socket is done with
        self.open_reader, self.readers = open_reader, readers
        self.reader: StreamReader | None = None
        self.unchecked: Cursor | None = None  # a cursor older than the history, until the stream shows its entry
        if not hub.holds(cursor):
            first = hub.first_offset
            if first is None or cursor.offset >= first:
                raise CursorGone(f"cursor {cursor} names no entry of this feed")
            self.unchecked = cursor

    def step(self, limit: int) -> list[str]:
        """The next frames to send (at most `limit` from the history, at most a stream batch from the stream);
        [] once the socket is live. Raises CursorGone."""
        while True:
            if self.reader is None and self.unchecked is None:
                entries = self.hub.entries_after(self.position, limit)
                if entries is None:  # the history moved on past this socket while it was being sent
                    self._open_reader(self.position + 1)
                    continue
                if not entries:
                    if self.hub.join_after(self.connection, self.position):
                        return []
                    continue  # the tail moved between the two calls
            else:
                entries = self._read_stream()
            frames = self._advance(entries)
            if frames:
                return frames

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
            self.readers.release()

    def _open_reader(self, offset: int) -> None:
        self.readers.acquire()
        try:
            self.reader = self.open_reader(offset)
        except BaseException:
            self.readers.release()
            raise

    def _read_stream(self) -> list[Entry]:
        if self.reader is None:
            assert self.unchecked is not None
            self._open_reader(self.unchecked.offset)
        assert self.reader is not None
        entries = [e for e in self.reader.take(STREAM_WAIT_SECONDS) if e.offset > self.position
                   or (self.unchecked is not None and e.offset == self.position)]
        if not entries:
            raise CursorGone(f"the stream sent nothing after offset {self.position}")
        expected = self.position if self.unchecked is not None else self.position + 1
        if entries[0].offset != expected:
            raise CursorGone(f"the stream starts at {entries[0].offset}, not {expected}: retention removed the rest")
        if self.unchecked is not None:
            if entries[0].cursor != self.unchecked:
                raise CursorGone(f"cursor {self.unchecked} names another entry of the stream")
            self.unchecked = None
            entries = entries[1:]
        if entries and self.hub.entries_after(entries[-1].offset, 0) is not None:
            self.close()  # the history reaches back to here: memory serves the rest
        return entries

    def _advance(self, entries: list[Entry]) -> list[str]:
        if entries:
            self.position = entries[-1].offset
        return [entry.frame for entry in entries if entry.frame is not None and self.connection.sees(entry)]
