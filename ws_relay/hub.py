"""The open sockets of one relay process, indexed by user, and the fan-out of events to them.

Every socket has a bounded list of messages waiting to be sent. Offering a message never
blocks the fan-out: a socket whose list is full belongs to a client that stopped reading,
and it is closed (1013) instead of growing the relay's memory.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from gevent.event import Event

from taskwire_common import contracts
from taskwire_common.auth import Principal

from .routing import audience_of, client_message, shown_event

log = logging.getLogger(__name__)

UNAUTHORIZED = 4401  # the HTTP 401 of WebSocket close codes, as clients of the old system expect
FORBIDDEN_ORIGIN = 4403
TRY_AGAIN_LATER = 1013  # RFC 6455: the client is too slow for us, or the relay cannot serve it yet
SERVICE_RESTART = 1012  # RFC 6455: the relay lost its event feed; reconnect and fetch the current state
PING_TIMEOUT = 1008  # policy violation: no pong to our last ping


@dataclass(eq=False)
class Connection:
    """One client socket: who it is, what it wants, and what waits to be sent to it.

    A list and an event rather than a queue.Queue: this is held once per socket, and a Queue
    with its lock and three conditions costs ~3 KiB where these cost ~0.2 KiB.
    """

    principal: Principal
    wants_task_events: bool
    queue_size: int
    pending: list[str] = field(default_factory=list, init=False)  # oldest first
    wakeup: Event = field(default_factory=Event, init=False)  # set when pending or close_code changed
    close_code: int | None = None
    close_reason: str = ""

    def offer(self, message: str) -> None:
        if self.close_code is not None:
            return
        if len(self.pending) >= self.queue_size:
            log.warning("dropping the socket of user %s: it stopped reading", self.principal.user_id)
            return self.close(TRY_AGAIN_LATER, "Too slow: messages were not read")
        self.pending.append(message)
        self.wakeup.set()

    def next_message(self) -> str | None:
        """The oldest message waiting, taken off the list (which holds at most queue_size: a pop(0) is cheap)."""
        return self.pending.pop(0) if self.pending else None

    def close(self, code: int, reason: str) -> None:
        """Ask the socket's greenlet to close it; safe from any greenlet."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.wakeup.set()


class Hub:
    def __init__(self):
        self._by_user: dict[int, set[Connection]] = {}
        self._admins: set[Connection] = set()
        self._lock = threading.Lock()

    def add(self, connection: Connection) -> None:
        with self._lock:
            self._by_user.setdefault(connection.principal.user_id, set()).add(connection)
            if connection.principal.is_admin and connection.wants_task_events:
                self._admins.add(connection)

    def remove(self, connection: Connection) -> None:
        with self._lock:
            users = self._by_user.get(connection.principal.user_id, set())
            users.discard(connection)
            if not users:
                self._by_user.pop(connection.principal.user_id, None)
            self._admins.discard(connection)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(connections) for connections in self._by_user.values())

    def dispatch(self, event: contracts.Event) -> int:
        """Offer the event to every socket allowed to see it; returns how many that was.

        Raises MalformedEvent for a message that is not the event its type promises.
        """
        event = contracts.checked_envelope(event)
        if event["type"] == contracts.TOKEN_REVOKED:
            self.revoke(contracts.read_revocation(event))
            return 0
        shown = shown_event(event)
        if shown is None:
            return 0
        audience = audience_of(shown)
        with self._lock:
            recipients = {c for user in audience.users for c in self._by_user.get(user, ())
                          if c.wants_task_events or not audience.is_task_event}
            if audience.all_admins:
                recipients |= self._admins
        if recipients:
            message = client_message(shown)
            for connection in recipients:
                connection.offer(message)
        return len(recipients)

    def close_all(self, code: int, reason: str) -> None:
        with self._lock:
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
