"""What a fault run watches with: a tap queue on every task event, and reconnecting WebSocket clients."""
from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from dataclasses import dataclass

import pika
import pika.exceptions
import websocket

from broker import topology
from taskwire_common.messaging import connection_parameters

from .ledger import Session


@contextlib.contextmanager
def amqp_channel(amqp_url: str):
    """A channel on a connection of its own, closed afterwards."""
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    try:
        yield connection.channel()
    finally:
        if connection.is_open:
            connection.close()


@dataclass
class Person:
    id: int
    username: str
    token: str
    is_admin: bool


class Tap:
    """A queue bound to every task event that survives the broker's restarts: a quorum queue, as the
    system's own consumers use."""

    def __init__(self, amqp_url: str):
        self.amqp_url, self.name = amqp_url, f"chaos.tap.{uuid.uuid4().hex[:8]}"
        self.events: list[dict] = []
        with amqp_channel(self.amqp_url) as channel:
            topology.declare(channel)
            channel.queue_declare(self.name, durable=True, arguments={"x-queue-type": "quorum"})
            channel.queue_bind(self.name, topology.EXCHANGE, "task.*")

    def drain(self) -> list[dict]:
        try:
            with amqp_channel(self.amqp_url) as channel:
                while True:
                    method, _properties, body = channel.basic_get(self.name, auto_ack=True)
                    if method is None:
                        break
                    self.events.append(json.loads(body))
        except pika.exceptions.AMQPError:
            pass  # the broker is restarting; what was not taken stays in the queue
        return self.events

    def delete(self) -> None:
        with amqp_channel(self.amqp_url) as channel:
            channel.queue_delete(self.name)


class Watcher:
    """One person's WebSocket client: reads everything, reconnects whenever the socket closes."""

    def __init__(self, gateway: str, person: Person):
        self.url = gateway.replace("http://", "ws://") + f"/ws/tasks/?token={person.token}"
        self.person = person
        self.sessions: list[Session] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"watcher-{person.username}")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)

    @property
    def current(self) -> Session | None:
        session = self.sessions[-1] if self.sessions else None
        return session if session and session.closed is None else None

    def _run(self) -> None:
        delay = 0.1
        while not self.stopping.is_set():
            try:
                ws = websocket.create_connection(self.url, timeout=5)
            except (websocket.WebSocketException, OSError):
                self.stopping.wait(delay)
                delay = min(delay * 2, 2.0)
                continue
            session = Session(opened=time.monotonic())
            self.sessions.append(session)
            ws.settimeout(1)
            try:
                self._read(ws, session)
            finally:
                session.closed = time.monotonic()
                ws.close()
            if session.event_ids or session.notifications:
                delay = 0.1
            self.stopping.wait(delay)
            delay = min(delay * 2, 2.0)

    def _read(self, ws, session: Session) -> None:
        while not self.stopping.is_set():
            try:
                opcode, data = ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketException, OSError):
                return
            if opcode == websocket.ABNF.OPCODE_TEXT:
                message = json.loads(data)
                if message["type"] == "task_update":
                    session.event_ids.append(message["event_id"])
                else:
                    session.notifications.append(message["notification"])
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                session.close_code = int.from_bytes(data[:2], "big") if data else 1005
                return
