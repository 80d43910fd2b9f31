"""Keyset (cursor) pages over a queryset, for every surface that lists rows.

A list is ordered by one of a few named sorts, each a tuple of columns ending in the
primary key, so the order is total. The cursor is the sort name plus the last row's values
of those columns, base64url-encoded JSON; the next page is "rows after these values" (a
range scan on an index), so page 500 costs what page 1 costs, and a row inserted while a
client pages never makes it see a row twice or skip one.

The API (api_v4.pagination) and the web pages (web.paging) read their parameters their own
way and call `keyset_fetch`; a bad cursor is an `InvalidCursor` each answers in its shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

_MAX_CURSOR = 512


class InvalidCursor(ValueError):
    """A cursor this list did not hand out (tampered, truncated, or of another sort)."""


@dataclass(frozen=True)
class Sort:
    """A named order: (field, descending) pairs, the last one the primary key."""

    columns: tuple[tuple[str, bool], ...]

    @classmethod
    def of(cls, *spec: str) -> Sort:
        """`Sort.of("-created_at", "-id")`, in Django's order_by spelling."""
        return cls(tuple((s.lstrip("-"), s.startswith("-")) for s in spec))

    def order_by(self) -> list[str]:
        return [("-" if desc else "") + name for name, desc in self.columns]

    def after(self, values: Sequence[Any]) -> Q:
        """Rows strictly after `values` in this order (a lexicographic keyset condition)."""
        condition = Q()
        equal: dict[str, Any] = {}
        for (name, desc), value in zip(self.columns, values, strict=True):
            step = Q(**equal, **{f"{name}__{'lt' if desc else 'gt'}": value})
            condition = step if not condition else condition | step
            equal[name] = value
        # The same condition, led by a bound on the first column alone: databases seek an
        # index on it, where an OR of ANDs alone can make them scan from the start.
        first, desc = self.columns[0]
        return Q(**{f"{first}__{'lte' if desc else 'gte'}": values[0]}) & condition


def _value_of(row: Model, name: str) -> Any:
    value = row
    for part in name.split("__"):
        value = getattr(value, part)
    return value


def _encode(sort_name: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps([sort_name, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> InvalidCursor:
    return InvalidCursor("Invalid cursor: use the `cursor` of a previous page.")


def _decode(cursor: str, sort_name: str, sort: Sort, model: type[Model]) -> list[Any]:
    if len(cursor) > _MAX_CURSOR:
        raise _bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, values = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError):
        raise _bad_cursor() from None
    if name != sort_name or not isinstance(values, list) or len(values) != len(sort.columns):
        raise _bad_cursor()
    typed: list[Any] = []
    for (column, _), value in zip(sort.columns, values, strict=True):
        typed.append(_typed(model, column, value))
    return typed


def _typed(model: type[Model], column: str, value: Any) -> Any:
    field = model._meta.get_field(column.split("__")[0])
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _bad_cursor()
        return parsed
    if internal.endswith("IntegerField") or internal.endswith("AutoField"):
        # bool is an int to Python; JSON true in a cursor is not a count.
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
            raise _bad_cursor()
        return value
    if not isinstance(value, str):
        raise _bad_cursor()
    return value


def keyset_fetch(
    queryset: QuerySet[Any], *, sort_name: str, sort: Sort, cursor: str | None, per_page: int
) -> tuple[list[Any], str | None]:
    """`per_page` rows of `queryset` after `cursor` in `sort`, and the next page's cursor
    (None on the last page). One query (plus the queryset's prefetches): it reads one row
    more than it shows to know whether a next page exists."""
    rows = queryset.order_by(*sort.order_by())
    if cursor:
        rows = rows.filter(sort.after(_decode(cursor, sort_name, sort, queryset.model)))
    items = list(rows[: per_page + 1])
    if len(items) <= per_page:
        return items, None
    items = items[:per_page]
    last = items[-1]
    return items, _encode(sort_name, [_value_of(last, name) for name, _ in sort.columns])
