"""Web pages: an album (`/album/{slug}.{id}`), its sub-albums (`/album/{id}/sub`), and the
owner's tools (web.albums_tools).

Who may see an album is asked of albums.selectors with the request's viewer; a hidden
album is the same 404 as a missing one, and a password album not yet unlocked answers with
Chevereto's password gate (web.albums_gate) before anything else, the canonical redirect
included: the slug in that redirect would reveal the album's name.
"""

from __future__ import annotations

from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import URLPattern, re_path
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from albums.models import Album
from albums.selectors import (
    GUEST,
    Viewer,
    album_children_visible_to,
    album_needs_password,
    album_path,
    album_visible_to,
    viewer_from_request,
)
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from chevereto.core.keyset import Sort
from social.selectors import likes_it
from uploads.selectors import album_images_visible_to, image_file_visible_to
from uploads.viewcounts import view_record
from web import albums_tools, paging
from web.albums_gate import password_page, unlock
from web.cards import ALBUM_RELATED, IMAGE_RELATED, album_cards, image_cards, viewer_shows_nsfw
from web.paging import page_of, sort_links

IMAGE_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
}
IMAGE_SORT_LABELS = {"date_desc": "Newest", "date_asc": "Oldest"}
SUB_SORTS = {
    "date_desc": Sort.of("-created_at", "-id"),
    "date_asc": Sort.of("created_at", "id"),
}
# Items per page (a module constant, so tests can page through a few).
PER_PAGE = paging.PER_PAGE
# Sub-albums shown on the album page itself; the rest are on /album/{id}/sub.
SUB_PREVIEW = 6


# --- Finding the album ------------------------------------------------------------------------


def album_by_encoded_id(encoded: str) -> Album | None:
    """The album behind an encoded id, with what its page and the visibility rule read
    (owner, parent, and the cover with its uploader) joined: one query."""
    try:
        pk = decode_id(encoded)
    except InvalidEncodedId:
        return None
    return Album.objects.select_related("owner", "parent", "cover__user").filter(pk=pk).first()


def _split(token: str) -> tuple[str, str]:
    """`slug.id` or `id` -> (slug, encoded id)."""
    slug, _, encoded = token.rpartition(".")
    return slug, encoded


def _open(request: HttpRequest, album: Album | None, *, then: str) -> HttpResponse | None:
    """None when the viewer may see the album; else the answer instead of the page: the
    password gate (or its unlock) for a locked password album, a 404 for anything hidden."""
    if album is None:
        raise Http404("That album does not exist or is not public")
    viewer = viewer_from_request(request)
    if album_visible_to(viewer=viewer, album=album):
        return None
    if not album_needs_password(viewer=viewer, album=album):
        raise Http404("That album does not exist or is not public")
    if request.method == "POST":
        return unlock(request, album, then=then)
    return password_page(request, album)


def _ancestors(album: Album, viewer: Viewer) -> list[Album]:
    """The album's parents, top first, that this viewer may see: one query per level above
    the first (the parent came with the album), at most `Album.MAX_DEPTH` levels."""
    chain: list[Album] = []
    parent = album.parent
    while parent is not None and len(chain) <= Album.MAX_DEPTH:
        # The tree is one owner's: the owner read with the album is the parent's too.
        parent.owner = album.owner
        chain.append(parent)
        if parent.parent_id is None:
            break
        parent = Album.objects.filter(pk=parent.parent_id).first()
    # A hidden parent is left out: its name is not for this viewer.
    return [a for a in reversed(chain) if album_visible_to(viewer=viewer, album=a)]


def _can_manage(request: HttpRequest, album: Album) -> bool:
    return albums_tools.can_manage(request, album)


def _finish(response: HttpResponse, album: Album) -> HttpResponse:
    if not album_visible_to(viewer=GUEST, album=album):
        # Shown because of who asks (owner, staff, an unlocked album): never to a shared cache.
        add_never_cache_headers(response)
    return response


def _head(request: HttpRequest, album: Album) -> dict[str, Any]:
    """What the album page and the sub-album page both show at the top."""
    viewer = viewer_from_request(request)
    owner = album.owner
    return {
        "album": album,
        "encoded_id": encode_id(album.pk),
        "album_url": album_path(album),
        "owner": owner,
        "owner_initial": (owner.display_name or owner.username)[:1].upper(),
        "privacy_label": Album.Privacy(album.privacy).label,
        "ancestors": [{"name": a.name, "url": album_path(a)} for a in _ancestors(album, viewer)],
        "can_manage": _can_manage(request, album),
    }


# --- Pages ------------------------------------------------------------------------------------


@csrf_exempt  # only the password form posts here, and `unlock` runs the CSRF check itself
@require_http_methods(["GET", "HEAD", "POST"])
def album_page(request: HttpRequest, token: str) -> HttpResponse:
    _slug, encoded = _split(token)
    album = album_by_encoded_id(encoded)
    canonical = album_path(album) if album is not None else ""
    # Visibility before the redirect: the canonical slug is the album's name.
    gate = _open(request, album, then=canonical)
    if gate is not None:
        return gate
    assert album is not None
    if request.method == "POST":
        return HttpResponseRedirect(canonical, status=303)
    if token != canonical.removeprefix("/album/"):
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(canonical + ("?" + query if query else ""))
    viewer = viewer_from_request(request)
    show_nsfw = viewer_shows_nsfw(request.user)
    images = album_images_visible_to(viewer=viewer, album=album).select_related(*IMAGE_RELATED)
    page = page_of(request, images, sorts=IMAGE_SORTS, default="date_desc", per_page=PER_PAGE)
    children = list(
        album_children_visible_to(viewer=viewer, album=album)
        .select_related(*ALBUM_RELATED)
        .order_by("-created_at", "-id")[: SUB_PREVIEW + 1]
    )
    absolute = request.build_absolute_uri
    shown_cover = album.cover
    if shown_cover is None or not image_file_visible_to(viewer=viewer, image=shown_cover):
        shown_cover = page.items[0] if page.items else None
    context = {
        **_head(request, album),
        "canonical_url": absolute(canonical),
        "og_image": absolute("/" + shown_cover.path) if shown_cover is not None else "",
        "noindex": album.privacy != Album.Privacy.PUBLIC,
        "cards": image_cards(page.items, show_nsfw=show_nsfw),
        "page": page,
        "tabs": sort_links(request, IMAGE_SORT_LABELS, page.sort),
        "album_cards": album_cards(children[:SUB_PREVIEW], viewer=viewer, show_nsfw=show_nsfw),
        "more_children": len(children) > SUB_PREVIEW,
        "liked": likes_it(user=request.user, album_id=album.pk),
        "empty": "No uploads in this album yet.",
    }
    response = render(request, "web/albums/album.html", context)
    if request.method == "GET":
        # One INSERT per view; folded into `views` by a periodic task (uploads.viewcounts).
        view_record(album_id=album.pk)
    return _finish(response, album)


@csrf_exempt  # as album_page: only the password form posts here
@require_http_methods(["GET", "HEAD", "POST"])
def album_sub(request: HttpRequest, token: str) -> HttpResponse:
    _slug, encoded = _split(token)
    album = album_by_encoded_id(encoded)
    here = f"/album/{encoded}/sub"
    gate = _open(request, album, then=here)
    if gate is not None:
        return gate
    assert album is not None
    if request.method == "POST":
        return HttpResponseRedirect(here, status=303)
    viewer = viewer_from_request(request)
    children = album_children_visible_to(viewer=viewer, album=album).select_related(*ALBUM_RELATED)
    page = page_of(request, children, sorts=SUB_SORTS, default="date_desc", per_page=PER_PAGE)
    context = {
        **_head(request, album),
        "album_cards": album_cards(
            page.items, viewer=viewer, show_nsfw=viewer_shows_nsfw(request.user)
        ),
        "albums_empty": "No sub-albums here.",
        "page": page,
        "tabs": sort_links(request, {"date_desc": "Newest", "date_asc": "Oldest"}, page.sort),
    }
    return _finish(render(request, "web/albums/sub.html", context), album)


_ID = r"(?P<token>(?:[^/]*\.)?[A-Za-z0-9]+)"

urlpatterns: list[URLPattern] = [
    *albums_tools.urlpatterns,
    re_path(rf"^album/{_ID}/sub/?$", album_sub, name="album-sub"),
    re_path(rf"^album/{_ID}/?$", album_page, name="album"),
]
