"""Bringing a resuming socket from its cursor to the live tail, without a gap and without a duplicate.

The hub's history serves recent cursors from memory. A cursor older than the history is read
from the feed stream on a connection of the socket's own, a few at a time per process and one
at a time per user (`ReaderSlots`), until the history reaches back to where the socket stands.
Either way the socket goes live only once it has been sent everything up to the tail
(Hub.join_after).
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


class ReaderSlots:
    """Who may read the stream now: at most `count` resuming sockets of this process at once, and one per user.

    A user who resumes again and again with old cursors (a reconnect loop, many tabs, or on
    purpose) waits behind their own reads and holds at most one of the process's slots: the
    other `count - 1` stay free for other users.
    """

    def __init__(self, count: int) -> None:
        self._slots = threading.BoundedSemaphore(count)
        self._users = threading.Condition()
        self._reading: set[int] = set()  # users holding a slot, or waiting for one

    def acquire(self, user: int, blocking: bool = True) -> bool:
        """Take a slot for `user`, waiting for the user's other read and then for a free slot; without
        `blocking`, False at once instead of waiting."""
        with self._users:
            if not self._users.wait_for(lambda: user not in self._reading, None if blocking else 0):
                return False
            self._reading.add(user)
        try:
            if self._slots.acquire(blocking):
                return True
        except BaseException:
            self._leave(user)
            raise
        self._leave(user)
        return False

    def release(self, user: int) -> None:
        self._slots.release()
        self._leave(user)

    def _leave(self, user: int) -> None:
        with self._users:
            self._reading.discard(user)
            self._users.notify_all()


class CursorGone(Exception):
    """The stream no longer holds what follows the cursor (retention), or never held it (foreign)."""


class Replay:
    """One socket's way from its cursor to the tail; `step` is called whenever its queue is empty.

    Stream offsets have gaps (RabbitMQ keeps entries of its own in the stream, which are never
    delivered), so continuity is never judged by offsets following each other: every read of the
    stream starts at the last entry the socket is done with, which must come back first, the
    same entry (same cursor). If it does not, retention removed it or the cursor is foreign.
    """

    def __init__(self, hub: Hub, connection: Connection, cursor: Cursor,
                 open_reader: Callable[[int, int], StreamReader], readers: ReaderSlots) -> None:
        self.hub, self.connection = hub, connection
        self.last = cursor  # the last entry this socket is done with
        self.open_reader, self.readers = open_reader, readers
        self.user = connection.principal.user_id
        self.reader: StreamReader | None = None
        self.confirmed = False  # the open reader delivered `last` again
        self.read_ids: set[str] = set()  # of the events read from the stream: a later copy is not sent again
        self.from_stream = not hub.holds(cursor)
        if self.from_stream:
            first = hub.first_offset
            if first is None or cursor.offset >= first:
                raise CursorGone(f"cursor {cursor} names no entry of this feed")

    def step(self, limit: int) -> list[bytes]:
        """The next frames to send (at most `limit` from the history, at most a stream batch from the stream);
        [] once the socket is live. Raises CursorGone."""
        while True:
            entries: list[Entry] | None
            if self.from_stream:
                entries = self._read_stream()
            else:
                entries = self.hub.entries_after(self.last, limit)
                if entries is None:  # the history moved on past this socket while it was being sent
                    self.from_stream = True
                    continue
                if not entries:
                    if self.hub.join_after(self.connection, self.last.offset):
                        return []
                    continue  # the tail moved between the two calls
            if entries:
                self.last = entries[-1].cursor
            frames = self.connection.frames_seen(entries)
            if frames:
                return frames

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None
            self.readers.release(self.user)

    def _open_reader(self) -> None:
        """Read the stream from `last` through the middle of the history, where memory takes over."""
        first, tail = self.hub.first_offset, self.hub.tail
        if first is None or tail is None:
            raise CursorGone("the feed's history was reset")
        start = self.last.offset
        self.readers.acquire(self.user)
        try:
            self.reader = self.open_reader(start, max(start, first + (tail.offset - first) // 2))
        except BaseException:
            self.readers.release(self.user)
            raise
        self.confirmed = False

    def _read_stream(self) -> list[Entry]:
        if self.reader is None:
            self._open_reader()
        reader = self.reader
        assert reader is not None and reader.through is not None
        batch = reader.take(STREAM_WAIT_SECONDS)
        if not batch:
            raise CursorGone(f"the stream sent nothing from offset {self.last.offset}")
        if batch[-1].offset >= reader.through or self.hub.holds(batch[-1].cursor):
            self.close()  # all it was to read has arrived, or the history goes on from here
            self.from_stream = False
        if self.confirmed:
            return self._first_copies([entry for entry in batch if entry.offset > self.last.offset])
        entries = [entry for entry in batch if entry.offset >= self.last.offset]  # a chunk may start before it
        if not entries:
            return []
        if entries[0].offset > self.last.offset:
            raise CursorGone(f"the stream starts at {entries[0].offset}, after {self.last}: retention removed it")
        if entries[0].cursor != self.last:
            raise CursorGone(f"cursor {self.last} names another entry of the stream")
        self.confirmed = True
        return self._first_copies(entries[1:])

    def _first_copies(self, entries: list[Entry]) -> list[Entry]:
        """The entries, with a repeated event hidden: one this replay read already, or one the history knows
        was first read at another offset (as it hid it when reading it live)."""
        kept = []
        for entry in entries:
            if (event_id := entry.event_id) is not None:
                if event_id in self.read_ids or self.hub.is_copy(entry):
                    entry = entry.hidden()
                else:
                    self.read_ids.add(event_id)
            kept.append(entry)
        return kept
