"""Cursor pages for the web listings, over chevereto.core.keyset.

A listing shows `PER_PAGE` items and a "next page" link (`data-pagination="next"`, the
markup Chevereto's downloaders follow) carrying `?seek=<cursor>`; the order is a named sort
from the page's own table, chosen by `?sort=`. A cursor the site did not hand out, or an
unknown sort, is a 404: a page that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from chevereto.core.keyset import InvalidCursor, Sort, keyset_fetch

PER_PAGE = 42
CURSOR_PARAM = "seek"


@dataclass(frozen=True)
class WebPage:
    items: list[Any]
    sort: str
    next_url: str | None
    # True when this is not the first page (a "back to the start" link is offered).
    is_continued: bool
    first_url: str


def _query_with(request: HttpRequest, **changes: str | None) -> str:
    params = request.GET.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    # The link is written unescaped (see templates/web/_pager.html): the path is quoted
    # here (request.path arrives decoded) and urlencode quotes the rest, so the URL holds
    # no character that could end the attribute.
    encoded = params.urlencode() if params else ""
    return quote(request.path) + ("?" + encoded if encoded else "")


def page_of(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    sorts: Mapping[str, Sort],
    default: str,
    per_page: int = PER_PAGE,
) -> WebPage:
    """One page of `queryset` in the request's sort, after the request's cursor."""
    sort_name = request.GET.get("sort") or default
    if sort_name not in sorts:
        raise Http404("No such listing order")
    cursor = request.GET.get(CURSOR_PARAM) or None
    try:
        items, next_cursor = keyset_fetch(
            queryset, sort_name=sort_name, sort=sorts[sort_name], cursor=cursor, per_page=per_page
        )
    except InvalidCursor:
        raise Http404("No such page") from None
    next_url = _query_with(request, **{CURSOR_PARAM: next_cursor}) if next_cursor else None
    return WebPage(
        items=items,
        sort=sort_name,
        next_url=next_url,
        is_continued=cursor is not None,
        first_url=_query_with(request, **{CURSOR_PARAM: None}),
    )


def sort_links(
    request: HttpRequest, labels: Mapping[str, str], current: str
) -> list[dict[str, object]]:
    """Tabs for a listing's sorts: each link restarts the listing in that order."""
    links = []
    for name, label in labels.items():
        params = {k: v for k, v in request.GET.items() if k not in {CURSOR_PARAM, "sort"}}
        params["sort"] = name
        links.append(
            {
                "name": name,
                "label": label,
                "href": request.path + "?" + urlencode(params),
                "current": name == current,
            }
        )
    return links
