"""Web pages: discovery. Explore (recent, trending, popular), categories, tags and search.

Every listing starts from uploads.search, which asks the visibility selectors, so these
pages list exactly what any listing may show the viewer. NSFW uploads are listed and the
cards blur them (unless the viewer opted in), hence `show_nsfw=True` on the selectors.
Each page runs a fixed number of queries: the cards are built from `select_related` rows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.text import slugify

from albums.selectors import viewer_from_request
from chevereto.core.keyset import Sort
from uploads.models import Category, Tag
from uploads.search import (
    MEDIA_TYPES,
    QUERY_MAX,
    SEARCH_TYPES,
    TRENDING_WINDOW,
    images_explore,
    images_listed,
    images_media_filter,
    search,
    tags_listed,
)
from web import paging
from web.cards import (
    ALBUM_RELATED,
    IMAGE_RELATED,
    album_cards,
    image_cards,
    user_cards,
    viewer_shows_nsfw,
)

# Read at call time, so tests can page through a handful of items.
PER_PAGE = paging.PER_PAGE

# Chevereto's explore sections, each with its one order (the section is the sort, so a
# `?sort=` naming another one is a page that does not exist).
EXPLORE_SECTIONS: dict[str, tuple[str, Sort]] = {
    "recent": ("Recent", Sort.of("-created_at", "-id")),
    # Within uploads.search.TRENDING_WINDOW, which images_explore applies.
    "trending": ("Trending", Sort.of("-likes", "-views", "-id")),
    "popular": ("Popular", Sort.of("-likes", "-views", "-id")),
}
MEDIA_LABELS = {"image": "Images", "video": "Videos", "animated": "Animated"}
assert set(MEDIA_LABELS) == set(MEDIA_TYPES)

NEWEST = "newest"
_NEWEST_UPLOADS = {NEWEST: Sort.of("-created_at", "-id")}
# People have no created_at: newest joined first.
_SEARCH_SORTS = {
    "images": _NEWEST_UPLOADS,
    "albums": {NEWEST: Sort.of("-created_at", "-id")},
    "users": {NEWEST: Sort.of("-date_joined", "-id")},
}
SEARCH_LABELS = {"images": "Images", "albums": "Albums", "users": "People"}
assert set(SEARCH_LABELS) == set(SEARCH_TYPES)


def _page(
    request: HttpRequest, queryset: QuerySet[Any], sorts: dict[str, Sort], default: str
) -> paging.WebPage:
    return paging.page_of(request, queryset, sorts=sorts, default=default, per_page=PER_PAGE)


# --- Explore -------------------------------------------------------------------------------


def _media_of(request: HttpRequest) -> str | None:
    media = request.GET.get("type") or None
    if media is not None and media not in MEDIA_TYPES:
        raise Http404("No such media type")
    return media


def _media_tabs(base: str, media: str | None) -> list[dict[str, object]]:
    """All / Images / Videos / Animated over the listing at `base` (its first page)."""
    tabs: list[dict[str, object]] = [{"label": "All", "href": base, "current": media is None}]
    tabs += [
        {"label": label, "href": f"{base}?" + urlencode({"type": name}), "current": name == media}
        for name, label in MEDIA_LABELS.items()
    ]
    return tabs


def _section_tabs(section: str, media: str | None) -> list[dict[str, object]]:
    """Chevereto's section URLs, keeping the media type."""
    query = "?" + urlencode({"type": media}) if media else ""
    return [
        {"label": label, "href": f"/explore/{name}{query}", "current": name == section}
        for name, (label, _) in EXPLORE_SECTIONS.items()
    ]


def explore(request: HttpRequest, section: str = "recent") -> HttpResponse:
    if section not in EXPLORE_SECTIONS:
        raise Http404("No such section")
    media = _media_of(request)
    label, sort = EXPLORE_SECTIONS[section]
    images = images_explore(
        viewer=viewer_from_request(request), show_nsfw=True, sort=section, media=media
    ).select_related(*IMAGE_RELATED)
    page = _page(request, images, {section: sort}, section)
    return render(
        request,
        "web/discovery/explore.html",
        {
            "section": section,
            "section_label": label,
            "trending_days": TRENDING_WINDOW.days,
            "media_label": MEDIA_LABELS.get(media or "", ""),
            "section_tabs": _section_tabs(section, media),
            "media_tabs": _media_tabs(f"/explore/{section}", media),
            "cards": image_cards(page.items, show_nsfw=viewer_shows_nsfw(request.user)),
            "page": page,
            # A handful, set by staff: shown as links under the tabs (no index page, since
            # `/categories` is not a reserved username and would hide such a profile).
            "categories": list(Category.objects.all()),
        },
    )


# --- Categories and tags -------------------------------------------------------------------


def _uploads_of(
    request: HttpRequest, template: str, *, only: Q, context: dict[str, object]
) -> HttpResponse:
    """A category's or a tag's page: the listed uploads that match `only`, newest first,
    with the media tabs."""
    media = _media_of(request)
    images = (
        images_listed(viewer=viewer_from_request(request), show_nsfw=True)
        .filter(images_media_filter(media), only)
        .select_related(*IMAGE_RELATED)
    )
    page = _page(request, images, _NEWEST_UPLOADS, NEWEST)
    return render(
        request,
        template,
        {
            **context,
            # The path arrives decoded (a tag may hold spaces, unicode, "%"): quoted again.
            "media_tabs": _media_tabs(quote(request.path), media),
            "cards": image_cards(page.items, show_nsfw=viewer_shows_nsfw(request.user)),
            "page": page,
        },
    )


def category(request: HttpRequest, slug: str) -> HttpResponse:
    found = Category.objects.filter(slug=slug).first()
    if found is None:
        raise Http404("No such category")
    return _uploads_of(
        request, "web/discovery/category.html", only=Q(category=found), context={"category": found}
    )


def _tag_named(request: HttpRequest, name: str) -> Tag:
    """The tag called `name` (or whose slug it is, or would be), if the viewer may know of
    it: a tag only hidden uploads carry tells strangers what those are about, so it is a 404
    like an unknown one (uploads.search.tags_listed)."""
    slugs = {name, slugify(name, allow_unicode=True)}
    found = list(
        tags_listed(viewer=viewer_from_request(request)).filter(
            Q(name__iexact=name) | Q(slug__in=slugs)
        )[:4]
    )
    if not found:
        raise Http404("No such tag")
    # Uploads name tags case-insensitively (uploads.services): the exact name first, then
    # the same name in another case, then a slug.
    return min(found, key=lambda t: (t.name != name, t.name.lower() != name.lower()))


def tag(request: HttpRequest, name: str) -> HttpResponse:
    found = _tag_named(request, name)
    return _uploads_of(
        request, "web/discovery/tag.html", only=Q(tags=found), context={"tag": found}
    )


# --- Search --------------------------------------------------------------------------------


def _search_tabs(q: str, kind: str) -> list[dict[str, object]]:
    return [
        {
            "label": label,
            "href": "/search?" + urlencode({"q": q, "type": name}),
            "current": name == kind,
        }
        for name, label in SEARCH_LABELS.items()
    ]


def search_page(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("type") or "images"
    if kind not in SEARCH_TYPES:
        raise Http404("No such search type")
    raw = request.GET.get("q", "")
    context: dict[str, object] = {
        "kind": kind,
        "kind_label": SEARCH_LABELS[kind],
        "query_max": QUERY_MAX,
    }
    # PostgreSQL refuses a NUL with an error, and the header box holds QUERY_MAX characters:
    # anything else is a request no form of ours sends, answered with the form and a 400.
    if len(raw) > QUERY_MAX or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        context["error"] = (
            f"A search holds at most {QUERY_MAX} characters and no control characters."
        )
        return render(request, "web/discovery/search.html", context, status=400)
    q = raw.strip()
    context.update(search_query=q, tabs=_search_tabs(q, kind))
    if not q:
        return render(request, "web/discovery/search.html", context)
    viewer = viewer_from_request(request)
    results = search(viewer=viewer, show_nsfw=True, q=q, kind=kind)
    show_nsfw = viewer_shows_nsfw(request.user)
    if kind == "images":
        page = _page(request, results.select_related(*IMAGE_RELATED), _SEARCH_SORTS[kind], NEWEST)
        context["cards"] = image_cards(page.items, show_nsfw=show_nsfw)
    elif kind == "albums":
        page = _page(request, results.select_related(*ALBUM_RELATED), _SEARCH_SORTS[kind], NEWEST)
        context["album_cards"] = album_cards(page.items, viewer=viewer, show_nsfw=show_nsfw)
    else:
        page = _page(request, results, _SEARCH_SORTS[kind], NEWEST)
        context["user_cards"] = user_cards(page.items)
    context.update(page=page, searched=True)
    return render(request, "web/discovery/search.html", context)


urlpatterns: list[URLPattern] = [
    path("explore", explore, name="explore"),
    path("explore/<str:section>", explore, name="explore-section"),
    path("category/<str:slug>", category, name="category"),
    # Tag names hold spaces, unicode, even a slash: the path arrives percent-decoded.
    path("tag/<path:name>", tag, name="tag"),
    path("search", search_page, name="search"),
]
