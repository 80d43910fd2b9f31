"""Cursor (keyset) pagination for every API V4 list, over chevereto.core.keyset.

A list view does:

    page = keyset_page(request, queryset, sorts=IMAGE_SORTS, default="date_desc")
    return Response({"images": [... for row in page.items], **page.links})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from chevereto.core.keyset import InvalidCursor, Sort, keyset_fetch

__all__ = ["Page", "Sort", "keyset_page", "paging_parameters", "per_page_of", "sort_of"]

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
_MAX_CURSOR = 512


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
    try:
        items, next_cursor = keyset_fetch(
            queryset,
            sort_name=sort_name,
            sort=sort,
            cursor=request.query_params.get("cursor"),
            per_page=per_page,
        )
    except InvalidCursor as exc:
        raise ValidationError({"cursor": str(exc)}) from None
    next_url = None
    if next_cursor is not None:
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
