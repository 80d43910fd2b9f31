"""Pages of uploads: the home page's recent uploads, the viewer, the delete page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from uploads.files import variant_file
from uploads.models import Image
from uploads.selectors import (
    image_get_by_encoded_id,
    image_slug,
    image_viewer_path,
    images_live,
)
from uploads.services import image_delete, image_delete_token_valid


def _find(token: str) -> tuple[Image, str]:
    """The upload behind `slug.id` or `id`, and the slug the URL carried."""
    slug, _, encoded = token.rpartition(".")
    image = image_get_by_encoded_id(encoded)
    if image is None:
        raise Http404("That upload does not exist or has expired")
    return image, slug


def _can_see(request: HttpRequest, image: Image) -> bool:
    """Moderated uploads and uploads in "only me" albums are for their owner and staff."""
    user = request.user
    if user.is_authenticated and (user.is_staff or user.pk == image.user_id):
        return True
    hidden_album = image.album is not None and image.album.privacy == image.album.Privacy.PRIVATE
    return image.is_approved and not hidden_album


def viewer(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    image, slug = _find(token)
    if not _can_see(request, image):
        raise Http404("That upload does not exist or is not public")
    canonical = image_viewer_path(image)
    wanted_kind = "video" if image.is_video else "image"
    if kind != wanted_kind or slug != image_slug(image):
        return HttpResponsePermanentRedirect(canonical)
    files = {v: variant_file(image, v) for v in ("image", "thumb", "medium", "frame")}
    display = files["medium"] or files["image"]
    if image.is_video:
        display = files["frame"]
    absolute = request.build_absolute_uri
    context = {
        "image": image,
        "canonical_url": absolute(canonical),
        "file_url": absolute("/" + image.path),
        "display_url": absolute("/" + display.name) if display else "",
        "thumb_url": absolute("/" + files["thumb"].name) if files["thumb"] else "",
        "encoded_id": token.rpartition(".")[2],
    }
    return render(request, "uploads/viewer.html", context)


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, kind: str, encoded: str, token: str) -> HttpResponse:
    image = image_get_by_encoded_id(encoded)
    if image is None:
        raise Http404("That upload does not exist or has expired")
    if request.method == "POST":
        if not image_delete_token_valid(image=image, token=token):
            raise Http404("Invalid delete link")
        image_delete(image=image)
        return render(request, "uploads/deleted.html", {"title": image.title})
    if not image_delete_token_valid(image=image, token=token):
        raise Http404("Invalid delete link")
    return render(
        request,
        "uploads/delete_confirm.html",
        {"image": image, "thumb": variant_file(image, "thumb")},
    )


def home(request: HttpRequest) -> HttpResponse:
    # Public uploads only: uploads in albums that are not public stay off the front page.
    recent = (
        images_live()
        .filter(is_approved=True)
        .exclude(album__privacy__in=["private", "private_but_link", "password"])
        .order_by("-created_at")[:24]
    )
    items = [
        {"image": image, "viewer": image_viewer_path(image), "thumb": variant_file(image, "thumb")}
        for image in recent
    ]
    return render(request, "uploads/home.html", {"items": items})
