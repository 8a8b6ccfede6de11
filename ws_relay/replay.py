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

    def __init__(self, hub: Hub, connection: Connection, cursor: Cursor,
                 open_reader: Callable[[int, int], StreamReader], readers: threading.Semaphore) -> None:
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

    def _open_reader(self, start: int) -> None:
        """Read the stream from `start` through the middle of the history, where memory takes over."""
        first, tail = self.hub.first_offset, self.hub.tail
        if first is None or tail is None:
            raise CursorGone("the feed's history was reset")
        self.readers.acquire()
        try:
            self.reader = self.open_reader(start, max(start, first + (tail.offset - first) // 2))
        except BaseException:
            self.readers.release()
            raise

    def _read_stream(self) -> list[Entry]:
        wanted = self.unchecked.offset if self.unchecked is not None else self.position + 1
        if self.reader is None:
            self._open_reader(wanted)
        reader = self.reader
        assert reader is not None and reader.through is not None
        batch = reader.take(STREAM_WAIT_SECONDS)
        if not batch:
            raise CursorGone(f"the stream sent nothing from offset {wanted}")
        if batch[-1].offset >= reader.through:
            self.close()  # all it was to read has arrived; the history goes on from there
        entries = [entry for entry in batch if entry.offset >= wanted]  # a chunk may start before the offset
        if not entries:
            return []
        if entries[0].offset != wanted:
            raise CursorGone(f"the stream starts at {entries[0].offset}, not {wanted}: retention removed the rest")
        if self.unchecked is not None:
            if entries[0].cursor != self.unchecked:
                raise CursorGone(f"cursor {self.unchecked} names another entry of the stream")
            self.unchecked = None
            entries = entries[1:]
        return entries

    def _advance(self, entries: list[Entry]) -> list[str]:
        if entries:
            self.position = entries[-1].offset
        return [entry.frame for entry in entries if entry.frame is not None and self.connection.sees(entry)]
