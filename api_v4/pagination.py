"""Cursor (keyset) pagination for every API V4 list.

A list is ordered by one of a few named sorts, each a tuple of columns ending in the
primary key, so the order is total. The cursor is the sort name plus the last row's values
of those columns, base64url-encoded JSON; the next page is "rows after these values" (a
range scan on an index), so page 500 costs what page 1 costs, and a row inserted while a
client pages never makes it see a row twice or skip one.

A list view does:

    page = keyset_page(request, queryset, sorts=IMAGE_SORTS, default="date_desc")
    return Response({"images": [... for row in page.items], **page.links})
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
_MAX_CURSOR = 512


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


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None
    next_url: str | None
    per_page: int

    @property
    def links(self) -> dict[str, Any]:
        """What every list answers beside its items."""
        return {"next": self.next_url, "cursor": self.next_cursor, "per_page": self.per_page}


def _value_of(row: Model, name: str) -> Any:
    value = row
    for part in name.split("__"):
        value = getattr(value, part)
    return value


def _encode(sort_name: str, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps([sort_name, plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> ValidationError:
    return ValidationError({"cursor": "Invalid cursor: use the `cursor` of a previous page."})


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


def per_page_of(request: Request) -> int:
    raw = request.query_params.get("per_page")
    if raw is None:
        return DEFAULT_PER_PAGE
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_PAGE:
        raise ValidationError({"per_page": f"A whole number from 1 to {MAX_PER_PAGE}."})
    return int(raw)


def sort_of(request: Request, sorts: Mapping[str, Sort], default: str) -> str:
    name = request.query_params.get("sort", default)
    if name not in sorts:
        raise ValidationError({"sort": f"Unknown sort {name!r}: one of {', '.join(sorts)}."})
    return name


def keyset_page(
    request: Request,
    queryset: QuerySet[Any],
    *,
    sorts: Mapping[str, Sort],
    default: str,
) -> Page:
    """One page of `queryset` after the request's cursor, in the request's sort.

    It reads `per_page + 1` rows (one query, plus whatever prefetches the queryset carries)
    to know whether a next page exists.
    """
    sort_name = sort_of(request, sorts, default)
    sort = sorts[sort_name]
    per_page = per_page_of(request)
    rows = queryset.order_by(*sort.order_by())
    cursor = request.query_params.get("cursor")
    if cursor:
        rows = rows.filter(sort.after(_decode(cursor, sort_name, sort, queryset.model)))
    items = list(rows[: per_page + 1])
    next_cursor = next_url = None
    if len(items) > per_page:
        items = items[:per_page]
        last = items[-1]
        next_cursor = _encode(sort_name, [_value_of(last, name) for name, _ in sort.columns])
        next_url = replace_query_param(request.build_absolute_uri(), "cursor", next_cursor)
    return Page(items=items, next_cursor=next_cursor, next_url=next_url, per_page=per_page)


def paging_parameters(sorts: Mapping[str, Sort], default: str) -> list[OpenApiParameter]:
    """The query parameters every list takes, for its schema."""
    return [
        OpenApiParameter(
            "cursor", str, description="The `cursor` of the previous page; omit for the first"
        ),
        OpenApiParameter(
            "per_page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            description=f"Items per page, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE})",
        ),
        OpenApiParameter("sort", str, enum=list(sorts), default=default),
    ]


class PagingSerializer(serializers.Serializer):
    """The paging fields of every list body (documented with each list's items)."""

    next = serializers.URLField(allow_null=True, help_text="URL of the next page, or null")
    cursor = serializers.CharField(allow_null=True, help_text="Cursor of the next page, or null")
    per_page = serializers.IntegerField()
