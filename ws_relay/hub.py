"""The open sockets of one relay process, indexed by user; the feed's recent history; the fan-out between them.

A message is framed once (ws_relay/wire.py) and the same bytes are offered to every socket
allowed to see it. The fan-out writes them itself to a socket whose greenlet is waiting with
nothing queued, as far as the kernel takes them at once: waking 10,000 greenlets to write one
frame each cost more than the writes. What the kernel does not take at once waits in the
socket's bounded list for its greenlet, which waits for the client. Offering never blocks the
fan-out: a socket whose list is full belongs to a client that stopped reading, and it is closed
(1013) instead of growing the relay's memory.

A socket is live once it has been sent everything up to the history's tail: from then on the
fan-out offers it each new entry it may see. Appending an entry, choosing its live recipients
and a socket going live all happen under one lock, so a socket that goes live at the tail gets
every later entry and none it already had (the seam between replay and live).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gevent.event import Event

from taskwire_common import contracts
from taskwire_common.auth import Principal
from taskwire_common.metrics import WS_MESSAGES_SENT, WS_OPEN_SOCKETS, WS_SLOW_SOCKETS_DROPPED
from taskwire_common.socket_messages import cursor_message

from .history import Cursor, Entry, History
from .wire import message_frame

log = logging.getLogger(__name__)

UNAUTHORIZED = 4401  # the HTTP 401 of WebSocket close codes, as clients of the old system expect
FORBIDDEN_ORIGIN = 4403
TRY_AGAIN_LATER = 1013  # RFC 6455: the client is too slow for us, or the relay cannot serve it yet
SERVICE_RESTART = 1012  # RFC 6455: the feed's history was reset; reconnect (and resume, or re-fetch)
PING_TIMEOUT = 1008  # policy violation: no pong to our last ping
TOO_MANY_SOCKETS = 4429  # the HTTP 429 of close codes: the user holds WS_MAX_SOCKETS_PER_USER in this process


@dataclass(eq=False, slots=True)
class Connection:
    """One client socket: who it is, what it wants, and what waits to be sent to it.

    A list and an event rather than a queue.Queue: this is held once per socket, and a Queue
    with its lock and three conditions costs ~3 KiB where these cost ~0.2 KiB. Slots rather than
    an instance dict: ~0.45 KiB less per socket.
    """

    principal: Principal
    wants_task_events: bool
    queue_size: int
    # Frames waiting for the socket's greenlet, oldest first; the first may be the rest of one partly written.
    pending: list[bytes] = field(default_factory=list, init=False)
    wakeup: Event = field(default_factory=Event, init=False)  # set when pending or close_code changed
    close_code: int | None = None
    close_reason: str = ""
    live: bool = field(default=False, init=False)  # offered new entries by the fan-out
    position: int = field(default=-1, init=False)  # once live: the offset of the last entry offered (or joined at)
    # Set only while the socket's greenlet waits: a write that never waits (InlineReader.send_now), which
    # `offer` may use then, as no write of the greenlet's is under way to interleave with.
    write_now: Callable[[bytes], int] | None = field(default=None, init=False)

    def offer(self, frame: bytes) -> bool:
        """Send a frame (wire.text_frame): written at once when nothing waits before it and the kernel takes it
        all (True), else queued, the rest of it, for the socket's greenlet."""
        if self.close_code is not None:
            return False
        if self.write_now is not None and not self.pending:
            try:
                written = self.write_now(frame)
            except OSError:
                written = 0  # the client is gone: the greenlet learns it writing the frame, and ends the socket
            if written == len(frame):
                return True
            frame = frame[written:]
        if len(self.pending) >= self.queue_size:
            log.warning("dropping the socket of user %s: it stopped reading", self.principal.user_id)
            WS_SLOW_SOCKETS_DROPPED.labels("queue_full").inc()
            self.close(TRY_AGAIN_LATER, "Too slow: messages were not read")
            return False
        self.pending.append(frame)
        self.wakeup.set()
        return False

    def frames_seen(self, entries: list[Entry]) -> list[bytes]:
        """The frames of the entries this socket may see, in order (a replay asks this of every entry it sends)."""
        user, is_admin, wants_task_events = self.principal.user_id, self.principal.is_admin, self.wants_task_events
        return [entry.frame for entry in entries if entry.frame is not None and entry.audience is not None
                and entry.audience.includes(user, is_admin, wants_task_events)]

    def take_pending(self, limit: int) -> list[bytes]:
        """The oldest messages waiting, up to `limit`, taken off the list."""
        taken, self.pending = self.pending[:limit], self.pending[limit:]
        return taken

    def close(self, code: int, reason: str) -> None:
        """Ask the socket's greenlet to close it; safe from any greenlet."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.wakeup.set()


class Hub:
    def __init__(self, history_size: int = 10_000, max_sockets_per_user: int | None = None):
        self.history = History(history_size)
        self.max_sockets_per_user = max_sockets_per_user  # None: no limit
        self.ready = False  # the history reaches the stream's tail as it was when the feed started
        self._by_user: dict[int, set[Connection]] = {}
        self._admins: set[Connection] = set()
        self._lock = threading.Lock()

    def add(self, connection: Connection) -> bool:
        """Count a socket in (revocations and closes reach it); it is offered entries once it joins. False, and
        not counted in, when its user already holds `max_sockets_per_user` sockets here."""
        with self._lock:
            users = self._by_user.setdefault(connection.principal.user_id, set())
            if self.max_sockets_per_user is not None and len(users) >= self.max_sockets_per_user:
                return False
            users.add(connection)
        WS_OPEN_SOCKETS.inc()
        return True

    def remove(self, connection: Connection) -> None:
        """Count a socket out (once for each `add`)."""
        WS_OPEN_SOCKETS.dec()
        with self._lock:
            users = self._by_user.get(connection.principal.user_id, set())
            users.discard(connection)
            if not users:
                self._by_user.pop(connection.principal.user_id, None)
            self._admins.discard(connection)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(connections) for connections in self._by_user.values())

    @property
    def tail(self) -> Cursor | None:
        with self._lock:
            return self.history.tail

    def publish(self, entry: Entry) -> int:
        """Keep the entry and offer its frame to every live socket allowed to see it; returns how many that was."""
        with self._lock:
            entry = self.history.append(entry)
            audience = entry.audience
            if audience is None or entry.frame is None:
                return 0
            recipients = {c for user in audience.users for c in self._by_user.get(user, ())
                          if c.live and (c.wants_task_events or not audience.is_task_event)}
            if audience.all_admins:
                recipients |= self._admins
            written = 0
            for connection in recipients:  # under the lock: a checkpoint never overtakes an entry
                written += connection.offer(entry.frame)
                connection.position = entry.offset
        if written:
            WS_MESSAGES_SENT.inc(written)  # those the sockets' greenlets send are counted as they send them
        return len(recipients)

    def join_at_tail(self, connection: Connection, greeting: Callable[[Cursor], list[bytes]]) -> Cursor | None:
        """Make the socket live at the tail, its next messages greeting(tail); None (not joined) before the history
        is ready."""
        with self._lock:
            tail = self.history.tail
            if not self.ready or tail is None:
                return None
            for frame in greeting(tail):
                connection.offer(frame)
            self._go_live(connection)
            return tail

    def join_after(self, connection: Connection, offset: int) -> bool:
        """Make the socket live if it has been sent everything up to the tail (offset is the tail's)."""
        with self._lock:
            tail = self.history.tail
            if tail is None or tail.offset != offset:
                return False
            self._go_live(connection)
            return True

    def checkpoint(self, connection: Connection, behind: int | None = None) -> Cursor | None:
        """For a live socket the fan-out left `behind` entries or more behind the tail (it may see none of them;
        by default a quarter of the history): queue a `cursor` message naming the tail, so that it resumes from
        there, within the history, rather than from far back in the stream."""
        behind = behind or max(1, self.history.capacity // 4)
        with self._lock:
            tail = self.history.tail
            if not connection.live or tail is None or tail.offset - connection.position < behind:
                return None
            connection.offer(message_frame(cursor_message(str(tail))))
            connection.position = tail.offset
            return tail

    def _go_live(self, connection: Connection) -> None:
        connection.live = True
        connection.position = self.history.tail.offset if self.history.tail else -1
        self._by_user.setdefault(connection.principal.user_id, set()).add(connection)
        if connection.principal.is_admin and connection.wants_task_events:
            self._admins.add(connection)

    @property
    def first_offset(self) -> int | None:
        with self._lock:
            return self.history.first_offset

    def mark_ready(self) -> None:
        with self._lock:
            self.ready = True

    def is_copy(self, entry: Entry) -> bool:
        with self._lock:
            return self.history.is_copy(entry)

    def holds(self, cursor: Cursor) -> bool:
        with self._lock:
            return self.history.holds(cursor)

    def entries_after(self, cursor: Cursor, limit: int) -> list[Entry] | None:
        """Up to `limit` entries following the cursor's; None when the history no longer holds that entry."""
        with self._lock:
            if not self.history.holds(cursor):
                return None
            return self.history.after(cursor.offset, limit)

    def reset(self, code: int, reason: str) -> None:
        """Forget the history (the stream it came from is gone) and close every socket: their cursors name it."""
        with self._lock:
            self.history.clear()
            self.ready = False
            connections = [c for user in self._by_user.values() for c in user]
        for connection in connections:
            connection.close(code, reason)

    def revoke(self, revocation: contracts.Revocation) -> None:
        """Close at once the sockets whose token was just revoked (`auth.token_revoked`)."""
        with self._lock:
            connections = list(self._by_user.get(revocation.user_id, ()))
        for connection in connections:
            principal = connection.principal
            if principal.jti == revocation.jti or (
                    revocation.token_version is not None and principal.token_version < revocation.token_version):
                connection.close(UNAUTHORIZED, "Token revoked")
