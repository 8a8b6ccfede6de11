"""The feed's recent history in one relay process: its entries in stream order, and the cursors naming them.

A cursor names one entry of the feed stream: its offset, and a fingerprint of its message id,
so that a cursor from another deployment (or from a stream that was deleted and made again)
is told apart from one of ours even where the offset exists. Clients treat it as opaque text.
"""
from __future__ import annotations

import bisect
import hashlib
import re
from collections import deque
from dataclasses import dataclass

from .routing import Audience

CURSOR_PATTERN = re.compile(r"(\d{1,18})\.([0-9a-f]{8})")
# Event ids remembered to hide copies (see History): well over the outbox's RESEND_COUNT.
REMEMBERED_IDS = 20_000


@dataclass(frozen=True)
class Cursor:
    offset: int
    fingerprint: str

    @classmethod
    def of(cls, offset: int, message_id: str) -> Cursor:
        return cls(offset, hashlib.blake2b(message_id.encode(), digest_size=4).hexdigest())

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """The cursor a client sent back, or None for anything that is not one."""
        match = CURSOR_PATTERN.fullmatch(text or "")
        return cls(int(match[1]), match[2]) if match else None

    def __str__(self) -> str:
        return f"{self.offset}.{self.fingerprint}"


@dataclass(frozen=True)
class Entry:
    """One message of the stream as the relay keeps it: the frame clients get, framed once, and who may get it.

    Entries no client is shown (the relay's own marks, events a client never sees) have no
    audience and no frame; they still move cursors forward.
    """

    cursor: Cursor
    audience: Audience | None = None
    frame: bytes | None = None  # the WebSocket frame, as written to every socket (ws_relay/wire.py)
    event_id: str | None = None  # of an event clients are shown

    @property
    def offset(self) -> int:
        return self.cursor.offset

    def hidden(self) -> Entry:
        """The same entry shown to nobody."""
        return Entry(self.cursor)


class History:
    """The last entries read from the stream, without a gap, oldest first: at least `capacity` once
    that many were read, and at most an eighth more (the oldest are dropped in steps).

    An event can be in the stream twice: the outbox publishes at least once, and after every
    reconnection it appends its last events to the stream again (RabbitMQ may have lost them). A
    copy of an event among the last `REMEMBERED_IDS` read is kept hidden, so no socket gets it twice.

    Not thread-safe on its own: the hub holds its lock around every use.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: list[Entry] = []
        self._offsets: list[int] = []
        self._event_ids: dict[str, int] = {}  # shown events read lately: the offset of their first copy
        self._id_order: deque[str] = deque()  # the same ids, oldest first
        self._ids_kept = max(capacity, REMEMBERED_IDS)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def tail(self) -> Cursor | None:
        return self._entries[-1].cursor if self._entries else None

    @property
    def first_offset(self) -> int | None:
        return self._offsets[0] if self._offsets else None

    def append(self, entry: Entry) -> Entry:
        """Keep the entry; returns it as kept (hidden when it repeats an event the history holds)."""
        if self._offsets and entry.offset <= self._offsets[-1]:
            raise ValueError(f"entry {entry.offset} does not follow {self._offsets[-1]}")
        if (event_id := entry.event_id) is not None:
            if self.is_copy(entry):
                entry = entry.hidden()
            elif event_id not in self._event_ids:
                self._remember(event_id, entry.offset)
        self._entries.append(entry)
        self._offsets.append(entry.offset)
        excess = len(self._entries) - self.capacity
        if excess >= max(1, self.capacity // 8):  # trimmed in steps: a list's head is costly to drop one by one
            del self._entries[:excess]
            del self._offsets[:excess]
        return entry

    def is_copy(self, entry: Entry) -> bool:
        """Whether the entry repeats an event first read at another offset (among the ids remembered)."""
        first = self._event_ids.get(entry.event_id) if entry.event_id is not None else None
        return first is not None and first != entry.offset

    def _remember(self, event_id: str, offset: int) -> None:
        self._event_ids[event_id] = offset
        self._id_order.append(event_id)
        if len(self._id_order) > self._ids_kept:
            self._event_ids.pop(self._id_order.popleft(), None)

    def clear(self) -> None:
        self._entries.clear()
        self._offsets.clear()
        self._event_ids.clear()
        self._id_order.clear()

    def holds(self, cursor: Cursor) -> bool:
        """Whether this cursor names an entry kept here (same offset, same fingerprint)."""
        index = bisect.bisect_left(self._offsets, cursor.offset)
        return index < len(self._offsets) and self._entries[index].cursor == cursor

    def after(self, offset: int, limit: int) -> list[Entry]:
        """Up to `limit` entries following `offset`, oldest first."""
        index = bisect.bisect_right(self._offsets, offset)
        return self._entries[index:index + limit]
