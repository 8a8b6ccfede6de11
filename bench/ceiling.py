"""The ceiling: Taskwire's hot requests with no framework at all, to measure what this machine can do.

A bare WSGI app that `make bench` runs under the same gunicorn configuration, behind an nginx
rendered from the same template, against the same seeded databases, answering the same paths:

- `GET /api/tasks/`: the list page tasks_svc would run for that query string and caller (the
  SQL comes from tasks_svc's own query builders, compiled once per caller and query), the rows
  written as JSON by orjson, and the page headers;
- `POST /api/tasks/`: the task and its `task.created` outbox row as tasks_svc's one statement,
  then the commit (whose trigger wakes the outbox publisher, as in Taskwire);
- `GET /api/notifications/`: notify_svc's page of the caller's notifications;
- `/ws/tasks/`: a bare publish→socket loop: a queue of its own on the events exchange, each task
  event written as it came to every open socket (no audience, no cursor, no history).

What it leaves out is exactly Taskwire's own cost: it reads the caller from the token's payload
WITHOUT verifying it, validates nothing, and has no routing, logging, metrics or error handling.
It is a measuring instrument for the bench stack only and must never face a network.
"""
from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import parse_qs

import gevent
import gevent.event
import orjson
import psycopg2
import simple_websocket
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import QueuePool

from broker import topology
from notify_svc import services as notify_services
from tasks_svc import services as task_services
from taskwire_common import contracts
from taskwire_common.auth import Principal
from taskwire_common.messaging import connect
from taskwire_common.pagination import EXACT_COUNT_LIMIT, page_statement

DIALECT = postgresql.psycopg2.dialect()  # type: ignore[attr-defined]  # the submodule is there at runtime
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def compiled(statement: Any) -> tuple[str, dict[str, Any]]:
    """A SQLAlchemy statement with its values bound, as psycopg2's SQL text and parameters (IN (…) expanded)."""
    state = statement.compile(dialect=DIALECT).construct_expanded_state()
    return state.statement, dict(state.parameters)


def compiled_unbound(statement: Any) -> tuple[str, dict[str, Any]]:
    """A statement whose values come per call: its SQL text, and the values it holds itself (its literals)."""
    done = statement.compile(dialect=DIALECT)
    return str(done), dict(done.params)


def caller(environ: dict[str, Any]) -> Principal:
    """The token's subject and role, read from its payload and not verified (see the module's docstring)."""
    payload = environ.get("HTTP_AUTHORIZATION", "").split()[-1].split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return Principal(int(claims["sub"]), claims["username"], claims["role"], claims["jti"], claims["iat"],
                     claims["exp"], claims["tv"])


@dataclass(frozen=True)
class Page:
    """A Taskwire list's page as psycopg2 runs it: the page with its total, and the estimate past the exact count."""

    rows: tuple[str, dict[str, Any]]  # pagination.page_statement: the total on every row, one row past the page
    size: int
    few_rows: bool
    estimate: tuple[str, dict[str, Any]]  # EXPLAIN of the unordered select (pagination.planner_rows)


class Pages:
    """Pages compiled once per (caller, query string)."""

    def __init__(self, build: Callable[[Principal, dict[str, list[str]]], tuple[Select[Any], dict[str, Any], bool]]):
        self.build = build
        self.cache: dict[tuple[int, str, str], Page] = {}

    def page(self, principal: Principal, query_string: str) -> Page:
        key = (principal.user_id, principal.role, query_string)
        if key not in self.cache:
            args = parse_qs(query_string)
            number, size = int(args.pop("page", ["1"])[0]), int(args.pop("page_size", ["20"])[0])
            select, params, few_rows = self.build(principal, args)
            sql, values = compiled(select.order_by(None).params(params))
            # One row more than the page, as pagination.fetch_rows_page reads to know whether a page follows.
            paged = page_statement(select, few_rows).params(params, page_limit=size + 1,
                                                            page_offset=(number - 1) * size)
            self.cache[key] = Page(compiled(paged), size, few_rows, ("EXPLAIN (FORMAT JSON) " + sql, values))
        return self.cache[key]


def task_page(principal: Principal, args: dict[str, list[str]]) -> tuple[Select[Any], dict[str, Any], bool]:
    filters: dict[str, Any] = {name: values for name, values in args.items() if name != "ordering"}
    filters["ordering"] = args.get("ordering", ["id"])
    return *task_services.filtered_tasks(principal, filters), not principal.is_admin


def notification_page(principal: Principal, args: dict[str, list[str]]) -> tuple[Select[Any], dict[str, Any], bool]:
    return *notify_services.users_notifications(principal.user_id, None), False


def pool(database_url: str, size: int) -> QueuePool:
    """Plain psycopg2 connections, kept (as Taskwire's are): SQLAlchemy's pool alone, with no ping on checkout
    and no rollback on return. Connections are made as concurrency needs them, like Taskwire's."""
    def connect() -> Any:
        return psycopg2.connect(database_url)
    return QueuePool(connect, pool_size=size, max_overflow=4, pre_ping=False, reset_on_return=None)


@contextmanager
def borrowed(connections: QueuePool, autocommit: bool) -> Iterator[Any]:
    """A psycopg2 connection from the pool, given back afterwards (psycopg2 sends nothing to set
    autocommit when it already has that value)."""
    proxied = connections.connect()
    try:
        connection: Any = proxied.driver_connection
        connection.autocommit = autocommit
        yield connection
    finally:
        proxied.close()


class BareFeed:
    """Task events from RabbitMQ to every open WebSocket, with nothing in between: the socket path's ceiling."""

    def __init__(self, amqp_url: str):
        self.amqp_url = amqp_url
        self.sockets: set[simple_websocket.Server] = set()
        self.consumer: gevent.Greenlet | None = None
        self.bound = gevent.event.Event()

    def serve(self, environ: dict[str, Any]) -> None:
        if self.consumer is None:
            self.consumer = gevent.spawn(self.consume)
        # The handshake completes only once the queue is bound: an event published after it reaches the socket.
        if not self.bound.wait(10):
            raise RuntimeError("the bare feed's queue was not bound within 10 s")
        ws = simple_websocket.Server(environ)
        self.sockets.add(ws)
        try:
            while ws.connected:
                ws.receive()  # until the client closes; what it sends is dropped
        except simple_websocket.ConnectionClosed:
            pass
        finally:
            self.sockets.discard(ws)

    def consume(self) -> None:
        connection = connect(self.amqp_url)
        channel = connection.channel()
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, topology.EXCHANGE, "task.*")
        self.bound.set()
        for _method, _properties, body in channel.consume(queue, auto_ack=True):
            text = body.decode()
            for ws in list(self.sockets):
                ws.send(text)


class Ceiling:
    """The WSGI app: one pool per database, per worker process, as large as Taskwire's."""

    def __init__(self, tasks_url: str, notifications_url: str, amqp_url: str, pool_size: int = 16):
        self.tasks, self.notifications = pool(tasks_url, pool_size), pool(notifications_url, pool_size)
        self.feed = BareFeed(amqp_url)
        self.task_pages, self.notification_pages = Pages(task_page), Pages(notification_page)
        self.creates = {statement: compiled_unbound(statement.statement)
                        for statement in (task_services.CREATE_TASK, task_services.CREATE_ASSIGNED_TASK)}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        if path == "/api/tasks/" and method == "GET":
            return self.page(self.tasks, self.task_pages, environ, start_response)
        if path == "/api/tasks/" and method == "POST":
            return self.create(environ, start_response)
        if path == "/api/notifications/" and method == "GET":
            return self.page(self.notifications, self.notification_pages, environ, start_response)
        if path == "/ws/tasks/":
            self.feed.serve(environ)
            raise StopIteration()  # gunicorn's sign that the socket was taken over (as flask-sock does)
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"detail": "not a ceiling path"}']

    def page(self, connections: QueuePool, pages: Pages, environ: dict[str, Any],
             start_response: StartResponse) -> Iterable[bytes]:
        page = pages.page(caller(environ), environ.get("QUERY_STRING", ""))
        with borrowed(connections, autocommit=True) as connection, connection.cursor() as cursor:
            cursor.execute(*page.rows)
            names = [column.name for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()[:page.size]]
            total = rows[0]["_total_rows"] if rows else 0  # the bench asks for first pages only
            for row in rows:
                del row["_total_rows"]
            if not page.few_rows and total > EXACT_COUNT_LIMIT:
                cursor.execute(*page.estimate)
                total = max(total, cursor.fetchone()[0][0]["Plan"]["Plan Rows"])
        body = orjson.dumps(rows)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                  ("X-Total-Count", str(total))])
        return [body]

    def create(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        principal = caller(environ)
        fields = orjson.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        if fields.get("due_date"):
            fields["due_date"] = date.fromisoformat(fields["due_date"])
        now = datetime.now(timezone.utc)
        values = {**task_services.DEFAULTS, **fields, "assigned_user": fields.get("assigned_user", principal.user_id),
                  "created_by": principal.user_id, "created_at": now, "updated_at": now, "version": 1}
        task = task_services.TASK_JSON.dump({**values, "id": None})
        event = contracts.task_created(task, contracts.Actor(principal.user_id, principal.username))
        statement = task_services.create_statement(principal, values["assigned_user"])
        sql, literals = self.creates[statement]
        params = {**literals, **statement.parameters([event], values)}
        with borrowed(self.tasks, autocommit=False) as connection:
            with connection, connection.cursor() as cursor:  # commits on leaving
                cursor.execute(sql, params)
                task["id"] = cursor.fetchone()[0]
        body = orjson.dumps(task)
        start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                       ("Location", f"/api/tasks/{task['id']}/")])
        return [body]


def app_from_environment() -> Ceiling:
    return Ceiling(os.environ["CEILING_TASKS_DATABASE_URL"], os.environ["CEILING_NOTIFICATIONS_DATABASE_URL"],
                   os.environ.get("AMQP_URLS") or os.environ["AMQP_URL"])  # as the services read them (settings)
