"""The owner's tools on the viewer: edit an upload's fields, and remove it.

`/image/<id>/edit` and `/image/<id>/remove` answer the uploader and staff only
(`uploads.selectors.image_of_actor`); for anyone else the upload does not exist (404). The
edit goes through `uploads.edits`, the same validation as both APIs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from albums.selectors import albums_of_owner
from chevereto.core.encoding import encode_id
from uploads.edits import image_changes_from, image_edit_apply
from uploads.errors import UploadError
from uploads.files import variant_file
from uploads.models import Category, Image
from uploads.selectors import image_of_actor, image_tag_names, image_viewer_path
from uploads.services import image_delete


def _managed(request: HttpRequest, encoded: str) -> Image:
    image = image_of_actor(actor=request.user, encoded=encoded)
    if image is None:
        raise Http404("That upload does not exist")
    return image


def _initial(image: Image) -> dict[str, str]:
    return {
        "title": image.title,
        "description": image.description,
        "tags": ", ".join(image_tag_names(image_ids=[image.pk]).get(image.pk, [])),
        "category_id": str(image.category_id or ""),
        "album_id": encode_id(image.album_id) if image.album_id else "",
        "nsfw": "1" if image.nsfw else "",
    }


def _edit_form(
    request: HttpRequest,
    image: Image,
    values: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    albums = (
        [
            {"id": encode_id(album.pk), "name": album.name}
            for album in albums_of_owner(owner_id=image.user_id).order_by("name", "id")
        ]
        if image.user_id is not None
        else []
    )
    categories = [
        {"id": str(c.pk), "name": c.name} for c in Category.objects.order_by("name", "id")
    ]
    response = render(
        request,
        "web/viewer/edit.html",
        {
            "image": image,
            "thumb": variant_file(image, "thumb"),
            "values": values,
            "error": error,
            "albums": albums,
            "categories": categories,
            "viewer_path": image_viewer_path(image),
            "encoded_id": encode_id(image.pk),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def image_edit_page(request: HttpRequest, encoded: str) -> HttpResponse:
    image = _managed(request, encoded)
    initial = _initial(image)
    if request.method == "GET":
        return _edit_form(request, image, initial)
    posted = request.POST
    values = {
        "title": posted.get("title", ""),
        "description": posted.get("description", ""),
        "tags": posted.get("tags", ""),
        "category_id": posted.get("category_id", ""),
        "album_id": posted.get("album_id", ""),
        "nsfw": "1" if posted.get("nsfw") else "",
    }
    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "tags": values["tags"],
        "category_id": values["category_id"],
        "is_nsfw": "1" if values["nsfw"] else "0",
    }
    # Only a changed album is moved: a move renames files of hidden albums, needlessly here.
    if values["album_id"] != initial["album_id"]:
        data["album_id"] = values["album_id"]
    try:
        changes = image_changes_from(data, actor=request.user)
        image_edit_apply(image=image, actor=request.user, changes=changes)
    except UploadError as error:
        return _edit_form(request, image, values, error=error.message, status=400)
    return HttpResponseRedirect(image_viewer_path(image), status=303)


@login_required
@require_http_methods(["GET", "POST"])
def image_remove_page(request: HttpRequest, encoded: str) -> HttpResponse:
    image = _managed(request, encoded)
    if request.method == "POST":
        owner = image.user
        image_delete(image=image)
        return HttpResponseRedirect(f"/{owner.username}" if owner is not None else "/", status=303)
    response = render(
        request,
        "web/viewer/remove_confirm.html",
        {
            "image": image,
            "thumb": variant_file(image, "thumb"),
            "viewer_path": image_viewer_path(image),
            "encoded_id": encode_id(image.pk),
        },
    )
    add_never_cache_headers(response)
    return response
