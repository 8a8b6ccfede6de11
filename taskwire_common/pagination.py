"""page/page_size pagination with the total in X-Total-Count and neighbours in a Link header (RFC 8288)."""
from __future__ import annotations

from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from sqlalchemy import Select, func, select

from .db import db

MAX_PAGE_SIZE = 100


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    page_size = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def fetch_page(statement: Select, page: int, page_size: int, as_dicts: bool = False) -> tuple[list, int]:
    """One page of the statement's results (ORM objects, or plain dicts of a Core select) and the total.

    A page that is not full tells the total by itself, so the COUNT runs only when it must.
    """
    result = db.session.execute(statement.limit(page_size).offset((page - 1) * page_size))
    items = [dict(row) for row in result.mappings()] if as_dicts else list(result.scalars())
    if len(items) < page_size and (items or page == 1):
        return items, (page - 1) * page_size + len(items)
    total = db.session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    return items, total


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
