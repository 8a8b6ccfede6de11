"""page/page_size pagination with the total in X-Total-Count and neighbours in a Link header (RFC 8288)."""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar, Unpack
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from sqlalchemy import ColumnClause, Integer, Select, bindparam, column, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal

from .db import Reader, db, read_only

MAX_PAGE_SIZE = 100
# X-Total-Count is exact up to here; past it, an estimate (count_rows).
EXACT_COUNT_LIMIT = 1000
TOTAL = "_total_rows"  # the window count's column in fetch_rows_page

T = TypeVar("T")
AnySelect = Select[Unpack[tuple[Any, ...]]]  # a select of any columns


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    page_size = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def fetch_page(statement: Select[T], page: int, page_size: int) -> tuple[list[T], int]:
    """One page of an ORM select's objects, and how many there are in all.

    The page reads one row more than it shows, so it knows whether another page follows: a page with
    none after it tells the total by itself, and the COUNT runs only when it must (page_total).
    """
    items = list(db.session.execute(
        statement.limit(page_size + 1).offset((page - 1) * page_size)).scalars())
    more = len(items) > page_size
    del items[page_size:]
    return items, page_total(lambda query, params: db.session.execute(query, params).scalar_one(),
                             statement, {}, page, page_size, len(items), more, None)


def fetch_rows_page(statement: AnySelect, params: dict[str, Any], page: int, page_size: int, few_rows: bool
                    ) -> tuple[list[dict[str, Any]], int]:
    """One page of a Core select as plain dicts, and the total, for hot read-only lists.

    `statement` takes its values as bound parameters (`params`) and should be built once per shape
    of request: this adds the page's LIMIT and OFFSET as parameters too, so the page's statement is
    built once as well and SQLAlchemy compiles it once.

    On an autocommit connection of the read pool (db.read_only): no transaction to open, no ROLLBACK
    to send, no ping. The total rides along on every row, so a page is one query (page_statement): the
    window count when the caller knows the rows are few (one user's tasks), else the count capped past
    EXACT_COUNT_LIMIT, and past that the planner's estimate (count_rows).
    """
    query = page_statement(statement, few_rows)
    page_params = {**params, "page_limit": page_size + 1, "page_offset": (page - 1) * page_size}

    def read(reader: Reader) -> tuple[list[dict[str, Any]], int]:
        rows = reader.rows(query, page_params)
        more = len(rows) > page_size
        del rows[page_size:]
        counted = rows[0].pop(TOTAL) if rows else None  # a page past the end has no row to carry it
        for row in rows[1:]:
            del row[TOTAL]
        if counted is not None and not few_rows and counted > EXACT_COUNT_LIMIT:
            counted = estimated_total(reader.value, statement, params)
        return rows, page_total(reader.value, statement, params, page, page_size, len(rows), more, counted)
    return read_only(read)


def page_total(scalar: Scalar, statement: AnySelect, params: dict[str, Any], page: int, page_size: int,
               shown: int, more: bool, counted: int | None) -> int:
    """The total for a page that shows `shown` rows, `more` saying whether a row follows them.

    A page with rows and none after them is the end, so it knows the exact total. Otherwise the total is
    `counted` (what the page's own query counted) or else count_rows. An estimate is kept true to what the
    page saw: at least the rows up to the one after this page, so `rel="next"` is there exactly when a row
    follows; at most the rows before a page past the end, so `rel="last"` points back into the list.
    """
    before = (page - 1) * page_size
    if not more and (shown or page == 1):
        return before + shown
    total = count_rows(scalar, statement, params) if counted is None else counted
    if not isinstance(total, EstimatedTotal):
        return total
    if more:
        return EstimatedTotal(max(total, before + shown + 1))
    return EstimatedTotal(min(total, before))


@lru_cache(maxsize=1024)
def page_statement(statement: AnySelect, few_rows: bool) -> AnySelect:
    """The page's query, LIMIT `page_limit` OFFSET `page_offset`, each row carrying the total as `_total_rows`.

    Few rows: the window count, exact. Many: the capped count as a subquery, which PostgreSQL runs once per
    query (an InitPlan): a window count would visit every matching row.
    """
    total = func.count().over() if few_rows else capped_count(statement).scalar_subquery()
    query = statement.add_columns(total.label(TOTAL))
    return query.limit(bindparam("page_limit", type_=Integer)).offset(bindparam("page_offset", type_=Integer))


Scalar = Callable[[Any, dict[str, Any]], Any]  # runs a statement with its values, returns its one value


def count_rows(scalar: Scalar, statement: AnySelect, params: dict[str, Any] | None = None) -> int:
    """How many rows the select matches: exact up to EXACT_COUNT_LIMIT, PostgreSQL's estimate past it.

    An exact count visits every matching row: 13.6 ms of PostgreSQL's CPU for each page of an admin's
    list over 100,000 tasks, ten times the page itself. Counting stops one row past the limit instead,
    and a larger total is the planner's row estimate for the same query (one EXPLAIN, no rows read),
    never below the limit + 1 it has seen. X-Total-Count-Estimated says which (docs/api.md).
    """
    counted: int = scalar(capped_count(statement), params or {})
    if counted <= EXACT_COUNT_LIMIT:
        return counted
    return estimated_total(scalar, statement, params)


def estimated_total(scalar: Scalar, statement: AnySelect, params: dict[str, Any] | None) -> EstimatedTotal:
    """The total of a select known to match more than EXACT_COUNT_LIMIT rows: the planner's estimate, at least that."""
    plan = scalar(explain(statement), params or {})
    return EstimatedTotal(max(EXACT_COUNT_LIMIT + 1, int(plan[0]["Plan"]["Plan Rows"])))


@lru_cache(maxsize=1024)
def capped_count(statement: AnySelect) -> AnySelect:
    """SELECT count(*) of the select's rows, stopping one past EXACT_COUNT_LIMIT."""
    return select(func.count()).select_from(statement.order_by(None).limit(EXACT_COUNT_LIMIT + 1).subquery())


class EstimatedTotal(int):
    """A total past EXACT_COUNT_LIMIT: the planner's estimate, not a count."""


class Explain(Executable, ClauseElement):
    """EXPLAIN (FORMAT JSON) of a statement, as a construct of SQLAlchemy's own: compiled once like any
    statement (its cache key is the statement's), its parameters bound as the statement's would be."""

    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, statement: AnySelect):
        self.statement = statement

    @property
    def _all_selected_columns(self) -> list[ColumnClause[Any]]:
        """The one column EXPLAIN returns: SQLAlchemy asks for it when it runs the statement compiled before."""
        return [column("QUERY PLAN")]


@compiles(Explain)
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + str(compiler.process(element.statement, **kw))


@lru_cache(maxsize=1024)
def explain(statement: AnySelect) -> Explain:
    """The EXPLAIN of the select without its ordering, one object per select (so it is compiled once)."""
    return Explain(statement.order_by(None))


def pagination_headers(total: int, page: int, page_size: int) -> dict[str, str]:
    last = max(1, -(-total // page_size))
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = min(page - 1, last)
    if page < last:
        links["next"] = page + 1
    request_url = tuple(request.environ.get(name, "") for name in LINK_ENVIRON)
    base = link_base(request_url) if sum(map(len, request_url)) <= KEPT_URL_CHARS else build_link_base()

    def url(number: int) -> str:
        return f"{base}page={number}&page_size={page_size}"

    estimated = {"X-Total-Count-Estimated": "true"} if isinstance(total, EstimatedTotal) else {}
    return {
        "X-Total-Count": str(total),
        **estimated,
        "Link": ", ".join(f'<{url(number)}>; rel="{rel}"' for rel, number in links.items()),
    }


# What a page's links are made of: the request's URL as the client sent it (after TrustedProxyFix).
LINK_ENVIRON = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME", "PATH_INFO",
                "QUERY_STRING")
KEPT_URL_CHARS = 512  # a longer request URL's link start is built anew each time, never kept


@lru_cache(maxsize=1024)
def link_base(_request_url: tuple[str, ...]) -> str:
    """build_link_base for the current request, whose URL `_request_url` is (LINK_ENVIRON), kept per URL:
    a client polling a list sends the same URL again and again, and building it was 5 % of a list
    request's CPU. 1,024 URLs of up to KEPT_URL_CHARS are kept at most, the least recently used going first."""
    return build_link_base()


def build_link_base() -> str:
    """The links' common start: the request's absolute URL with its query less the page and page size."""
    query = urlencode([(name, value) for name, value in request.args.items(multi=True)
                       if name not in ("page", "page_size")])
    return request.base_url + "?" + (query + "&" if query else "")
