"""The album owner's tools: create (`/albums/new`), edit (`/album/{id}/edit`: name,
description, privacy and password, parent, cover), delete (`/album/{id}/delete`, with or
without its uploads) and add from my uploads (`/album/{id}/add`).

The owner and staff use them; anyone else gets the 404 of an album that does not exist.
The rules (names, passwords, cycles, depth, covers) are the services': their `AlbumError`
or `ImageMoveError` puts the form back with the message and a 400.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, re_path
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from accounts.models import User
from albums.models import Album
from albums.selectors import album_descendant_ids, album_path, albums_of_owner
from albums.services import AlbumError, album_create, album_move
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from chevereto.core.keyset import Sort
from uploads.album_services import ImageMoveError, album_delete, album_edit, images_move
from uploads.models import Image
from uploads.selectors import images_live, images_owned_by
from web.cards import IMAGE_RELATED, image_cards, viewer_shows_nsfw
from web.paging import page_of

# Uploads offered as the cover on the edit page (the newest; the current cover too).
COVER_CHOICES = 24
# Albums offered as a parent: an owner with more picks among their newest this many.
PARENT_CHOICES = 500
ADD_SORTS = {"date_desc": Sort.of("-created_at", "-id")}
PRIVACY_CHOICES = [(value, label) for value, label in Album.Privacy.choices]
PRIVACY_HELP = {
    Album.Privacy.PUBLIC: "Listed on your profile and in search.",
    Album.Privacy.PRIVATE_BUT_LINK: "Not listed; anyone with the link can open it.",
    Album.Privacy.PRIVATE: "Only you can see it.",
    Album.Privacy.PASSWORD: "Not listed; opens with the password.",
}


def can_manage(request: HttpRequest, album: Album) -> bool:
    """The owner and staff manage an album (as on the API's user routes)."""
    user = request.user
    return bool(user.is_authenticated and (user.is_staff or album.owner_id == user.pk))


def _decode(encoded: str) -> int | None:
    try:
        return decode_id(encoded)
    except InvalidEncodedId:
        return None


def _managed(request: HttpRequest, encoded: str) -> Album:
    """The album, if this visitor manages it; else the 404 of a missing album."""
    pk = _decode(encoded)
    album = (
        Album.objects.select_related("owner", "cover__user").filter(pk=pk).first() if pk else None
    )
    if album is None or not can_manage(request, album):
        raise Http404("That album does not exist")
    return album


def _parent_choices(owner_id: int, *, leave_out: Album | None = None) -> list[dict[str, str]]:
    """The owner's albums as a tree for the parent menu (one query), without `leave_out`
    and its sub-albums (the services refuse those anyway: a cycle)."""
    rows = list(
        albums_of_owner(owner_id=owner_id)
        .order_by("-created_at", "-id")
        .values_list("pk", "parent_id", "name")[:PARENT_CHOICES]
    )
    known = {pk for pk, _, _ in rows}
    children: dict[int | None, list[tuple[int, str]]] = {}
    for pk, parent_id, name in rows:
        # A parent beyond the menu's limit: its child is offered at the top level.
        children.setdefault(parent_id if parent_id in known else None, []).append((pk, name))
    choices: list[dict[str, str]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for pk, name in sorted(children.get(parent_id, []), key=lambda row: row[1].lower()):
            if leave_out is not None and pk == leave_out.pk:
                continue
            choices.append({"value": encode_id(pk), "label": "— " * depth + name})
            if depth < Album.MAX_DEPTH:
                walk(pk, depth + 1)

    walk(None, 0)
    return choices


def _parent_from(encoded: str, *, owner_id: int) -> Album | None:
    if not encoded:
        return None
    pk = _decode(encoded)
    parent = Album.objects.filter(pk=pk, owner_id=owner_id).first() if pk else None
    if parent is None:
        raise AlbumError("The parent album does not exist.")
    return parent


def _form(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(
        request,
        "web/albums/form.html",
        {"privacies": PRIVACY_CHOICES, "privacy_help": PRIVACY_HELP, **context},
        status=status,
    )
    add_never_cache_headers(response)
    return response


def _posted(request: HttpRequest) -> dict[str, str]:
    post = request.POST
    privacy = post.get("privacy", Album.Privacy.PUBLIC)
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "privacy": privacy,
        # The password field is for password albums only: a value left in it after
        # switching to another privacy is not an error, just not used.
        "password": post.get("password", "") if privacy == Album.Privacy.PASSWORD else "",
        "parent": post.get("parent", ""),
        "cover": post.get("cover", ""),
    }


# --- Create ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def album_new(request: HttpRequest) -> HttpResponse:
    owner: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {"mode": "create", "parents": _parent_choices(owner.pk)}
    if request.method == "GET":
        values = {"privacy": Album.Privacy.PUBLIC, "parent": request.GET.get("parent", "")}
        return _form(request, {**context, "values": values})
    values = _posted(request)
    try:
        album = album_create(
            owner=owner,
            name=values["name"],
            description=values["description"],
            privacy=values["privacy"],
            password=values["password"],
            parent=_parent_from(values["parent"], owner_id=owner.pk),
        )
    except AlbumError as error:
        return _form(request, {**context, "values": values, "error": str(error)}, status=400)
    messages.success(request, f"Album “{album.name}” created.")
    return HttpResponseRedirect(album_path(album), status=303)


# --- Edit ------------------------------------------------------------------------------------


def _cover_choices(request: HttpRequest, album: Album) -> list[dict[str, object]]:
    # Live uploads only: an expired upload is gone for everyone, its owner included.
    live = images_live().filter(album_id=album.pk)
    rows = list(live.select_related(*IMAGE_RELATED).order_by("-created_at", "-id")[:COVER_CHOICES])
    cover = live.filter(pk=album.cover_id).first() if album.cover_id else None
    if cover is not None and all(row.pk != cover.pk for row in rows):
        rows.insert(0, cover)
    cards = image_cards(rows, show_nsfw=viewer_shows_nsfw(request.user))
    for card, row in zip(cards, rows, strict=True):
        card["value"] = encode_id(row.pk)
    return cards


def _cover_from(encoded: str, *, album: Album) -> Image | None:
    if not encoded:
        return None
    pk = _decode(encoded)
    cover = images_live().filter(pk=pk, album_id=album.pk).first() if pk else None
    if cover is None:
        raise AlbumError("The cover must be one of the album's own uploads.")
    return cover


@require_http_methods(["GET", "POST"])
def album_edit_page(request: HttpRequest, encoded: str) -> HttpResponse:
    album = _managed(request, encoded)
    context: dict[str, Any] = {
        "mode": "edit",
        "album": album,
        "album_url": album_path(album),
        "encoded_id": encode_id(album.pk),
        "parents": _parent_choices(album.owner_id, leave_out=album),
        "has_password": album.privacy == Album.Privacy.PASSWORD and bool(album.password_hash),
    }
    if request.method == "GET":
        values = {
            "name": album.name,
            "description": album.description,
            "privacy": album.privacy,
            "parent": encode_id(album.parent_id) if album.parent_id else "",
            "cover": encode_id(album.cover_id) if album.cover_id else "",
        }
        context["covers"] = _cover_choices(request, album)
        return _form(request, {**context, "values": values})
    values = _posted(request)
    try:
        parent = _parent_from(values["parent"], owner_id=album.owner_id)
        cover = _cover_from(values["cover"], album=album)
        # One change: a refused edit leaves the album where it was too.
        with transaction.atomic():
            if (parent.pk if parent else None) != album.parent_id:
                album_move(album=album, parent=parent)
            album_edit(
                album=album,
                name=values["name"],
                description=values["description"],
                privacy=values["privacy"],
                password=values["password"],
                cover=cover,
            )
    except AlbumError as error:
        album.refresh_from_db()
        context["covers"] = _cover_choices(request, album)
        context["album_url"] = album_path(album)
        return _form(request, {**context, "values": values, "error": str(error)}, status=400)
    messages.success(request, "Album saved.")
    return HttpResponseRedirect(album_path(album), status=303)


# --- Delete ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def album_delete_page(request: HttpRequest, encoded: str) -> HttpResponse:
    album = _managed(request, encoded)
    error = ""
    if request.method == "POST":
        mode = request.POST.get("with_images")
        if mode in {"0", "1"}:
            gone_to = (
                album_path(album.parent) if album.parent_id else f"/{album.owner.username}/albums"
            )
            name = album.name
            album_delete(album=album, with_images=mode == "1")
            said = "and its uploads " if mode == "1" else ""
            messages.success(request, f"Album “{name}” {said}deleted.")
            return HttpResponseRedirect(gone_to, status=303)
        error = "Choose whether to keep the uploads or delete them too."
    sub_albums = sum(len(level) for level in album_descendant_ids(album=album))
    response = render(
        request,
        "web/albums/delete.html",
        {
            "album": album,
            "album_url": album_path(album),
            "sub_albums": sub_albums,
            "error": error,
        },
        status=400 if error else 200,
    )
    add_never_cache_headers(response)
    return response


# --- Add from my uploads ---------------------------------------------------------------------


def _add_page(
    request: HttpRequest, album: Album, *, error: str = "", status: int = 200
) -> HttpResponse:
    # The album owner's uploads (staff adding to someone's album add that person's).
    others = (
        images_owned_by(owner=album.owner).exclude(album_id=album.pk).select_related(*IMAGE_RELATED)
    )
    page = page_of(request, others, sorts=ADD_SORTS, default="date_desc")
    cards = image_cards(page.items, show_nsfw=viewer_shows_nsfw(request.user))
    for card, row in zip(cards, page.items, strict=True):
        card["value"] = encode_id(row.pk)
    response = render(
        request,
        "web/albums/add.html",
        {
            "album": album,
            "album_url": album_path(album),
            "cards": cards,
            "page": page,
            "error": error,
            "checked": set(request.POST.getlist("image")),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def album_add_page(request: HttpRequest, encoded: str) -> HttpResponse:
    album = _managed(request, encoded)
    if request.method == "GET":
        return _add_page(request, album)
    pks = [pk for pk in map(_decode, request.POST.getlist("image")) if pk is not None]
    images = list(images_owned_by(owner=album.owner).filter(pk__in=pks)) if pks else []
    if not images:
        return _add_page(request, album, error="Choose at least one upload to add.", status=400)
    try:
        images_move(images=images, album=album)
    except (ImageMoveError, AlbumError) as error:
        return _add_page(request, album, error=str(error), status=400)
    messages.success(request, f"{len(images)} upload{'s' if len(images) != 1 else ''} added.")
    return HttpResponseRedirect(album_path(album), status=303)


_ENCODED = r"(?P<encoded>[A-Za-z0-9]+)"

urlpatterns: list[URLPattern] = [
    path("albums/new", album_new, name="album-create"),
    re_path(rf"^album/{_ENCODED}/edit/?$", album_edit_page, name="album-edit"),
    re_path(rf"^album/{_ENCODED}/delete/?$", album_delete_page, name="album-delete"),
    re_path(rf"^album/{_ENCODED}/add/?$", album_add_page, name="album-add"),
]
