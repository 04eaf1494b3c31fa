"""Pages of a list: the one shape every list of the JSON API answers in.

In: ``?page=`` (from 1) and ``?per_page=`` (1 to MAX_PER_PAGE). Out:
``{items, total, page, per_page, pages}``; a page past the last is empty, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from marshmallow import Schema, fields, validate

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # far past any list; keeps the offset within what a database takes
DEFAULT_PER_PAGE = 25

T = TypeVar("T")


class PageQuerySchema(Schema):
    """The paging part of a list's query; a list with filters subclasses it."""

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "which page; past the last one, `items` is empty"},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": "items per page"},
    )


class PageSchema(Schema):
    """The envelope of a page; ``page_schema`` gives it its items."""

    total = fields.Integer(required=True, metadata={"description": "items in the whole list"})
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True, metadata={"description": "at least 1"})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """A page of ``item_schema``, documented as the component ``name``."""
    return PageSchema.from_dict(
        {"items": fields.List(fields.Nested(item_schema), required=True)},
        name=name,
    )


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def offset_of(page: int, per_page: int) -> int:
    return (page - 1) * per_page


def page_of(items: Sequence[T], total: int, page: int, per_page: int) -> dict[str, Any]:
    """The page envelope around items already cut to the page."""
    return {
        "items": list(items),
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": page_count(total, per_page),
    }


def cut(items: Sequence[T], page: int, per_page: int) -> dict[str, Any]:
    """A page of a list already in memory."""
    start = offset_of(page, per_page)
    return page_of(items[start : start + per_page], len(items), page, per_page)
