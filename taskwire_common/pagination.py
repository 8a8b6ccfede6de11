"""page/page_size pagination with the total in X-Total-Count and neighbours in a Link header (RFC 8288)."""
from __future__ import annotations

from typing import Any, TypeVar, Unpack
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from flask_sqlalchemy.session import Session
from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import scoped_session

from .db import db

MAX_PAGE_SIZE = 100
TOTAL = "_total_rows"  # the window count's column in fetch_rows_page

T = TypeVar("T")
AnySelect = Select[Unpack[tuple[Any, ...]]]  # a select of any columns


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    page_size = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def fetch_page(statement: Select[T], page: int, page_size: int) -> tuple[list[T], int]:
    """One page of an ORM select's objects, and how many there are in all.

    A page that is not full tells the total by itself, so the COUNT runs only when it must.
    """
    items = list(db.session.execute(statement.limit(page_size).offset((page - 1) * page_size)).scalars())
    if len(items) < page_size and (items or page == 1):
        return items, (page - 1) * page_size + len(items)
    return items, count_rows(db.session, statement)


def fetch_rows_page(statement: AnySelect, page: int, page_size: int, few_rows: bool
                    ) -> tuple[list[dict[str, Any]], int]:
    """One page of a Core select as plain dicts, and the total, for hot read-only lists.

    On an autocommit connection: no transaction to open, no ROLLBACK to send. When the
    caller knows the rows are few (one user's tasks), the total rides along as a window
    count: one query, one plan. Over many rows a window count would visit every one of
    them, so there a separate COUNT runs, and only when the page is full.
    """
    query = page_statement(statement, page, page_size, few_rows)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
        if few_rows and rows:
            total = rows[0][TOTAL]
            for row in rows:
                del row[TOTAL]
            return rows, total
        if len(rows) < page_size and (rows or page == 1):
            return rows, (page - 1) * page_size + len(rows)
        return rows, count_rows(connection, statement)


def page_statement(statement: AnySelect, page: int, page_size: int, few_rows: bool) -> AnySelect:
    """The page's query: with the window count `_total_rows` on each row when the rows are few."""
    query = statement.add_columns(func.count().over().label(TOTAL)) if few_rows else statement
    return query.limit(page_size).offset((page - 1) * page_size)


def count_rows(executor: Connection | scoped_session[Session], statement: AnySelect) -> int:
    return executor.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()


def pagination_headers(total: int, page: int, page_size: int) -> dict[str, str]:
    last = max(1, -(-total // page_size))
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = min(page - 1, last)
    if page < last:
        links["next"] = page + 1
    base = request.base_url
    query = request.args.to_dict(flat=False)

    def url(number: int) -> str:
        return base + "?" + urlencode({**query, "page": number, "page_size": page_size}, doseq=True)

    return {
        "X-Total-Count": str(total),
        "Link": ", ".join(f'<{url(number)}>; rel="{rel}"' for rel, number in links.items()),
    }
