"""Pages of one upload: the viewer, the delete link, the owner's edit and remove pages, and
oEmbed (web/viewer_edit.py, web/viewer_oembed.py).

Every page asks the visibility selectors (uploads.selectors, albums.selectors) with the
request's viewer; none decides on its own who may see what.
"""

from __future__ import annotations

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.urls import re_path
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from albums.selectors import GUEST, viewer_from_request
from uploads.files import variant_file
from uploads.models import Image
from uploads.selectors import (
    image_file_visible_to,
    image_for_delete_link,
    image_get_by_encoded_id,
    image_locked_album,
    image_slug,
    image_viewer_path,
    image_visible_to,
)
from uploads.services import image_delete, image_delete_token_valid
from uploads.viewcounts import view_record
from web.albums_gate import password_page, unlock
from web.viewer_edit import image_edit_page, image_remove_page
from web.viewer_oembed import oembed
from web.viewer_page import viewer_context


def _find(token: str) -> tuple[Image, str]:
    """The upload behind `slug.id` or `id`, and the slug the URL carried."""
    slug, _, encoded = token.rpartition(".")
    image = image_get_by_encoded_id(encoded)
    if image is None:
        raise Http404("That upload does not exist or has expired")
    return image, slug


@csrf_exempt  # only the password form posts here, and `unlock` runs the CSRF check itself
@require_http_methods(["GET", "HEAD", "POST"])
def viewer(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    image, slug = _find(token)
    who = viewer_from_request(request)
    if not image_visible_to(viewer=who, image=image):
        album = image_locked_album(viewer=who, image=image)
        if album is None:
            raise Http404("That upload does not exist or is not public")
        # Checked before any redirect: the canonical slug would reveal the title.
        if request.method == "POST":
            return unlock(request, album, then=image_viewer_path(image))
        return password_page(request, album)
    if request.method == "POST":
        return HttpResponseRedirect(image_viewer_path(image), status=303)
    canonical = image_viewer_path(image)
    wanted_kind = "video" if image.is_video else "image"
    if kind != wanted_kind or slug != image_slug(image):
        return HttpResponsePermanentRedirect(canonical)
    context = viewer_context(request=request, image=image, viewer=who, canonical=canonical)
    response = render(request, "web/viewer/viewer.html", context)
    if request.method == "GET":
        # One INSERT per view; folded into `views` by a periodic task (uploads.viewcounts).
        view_record(image_id=image.pk)
    if not image_visible_to(viewer=GUEST, image=image):
        # Shown because of who asks (owner, staff, an unlocked album): never to a shared cache.
        add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, kind: str, encoded: str, token: str) -> HttpResponse:
    # The delete link is the uploader's capability (see `image_for_delete_link`): it works
    # for an upload awaiting moderation, of a banned owner or in a private album alike.
    image = image_for_delete_link(encoded=encoded)
    if image is None or not image_delete_token_valid(image=image, token=token):
        raise Http404("That upload does not exist, has expired, or the link is invalid")
    if request.method == "POST":
        image_delete(image=image)
        return render(request, "web/viewer/deleted.html", {"title": image.title})
    # The thumbnail only when its file answers this visitor (not for a moderated guest upload).
    shows_files = image_file_visible_to(viewer=viewer_from_request(request), image=image)
    response = render(
        request,
        "web/viewer/delete_confirm.html",
        {
            "image": image,
            "thumb": variant_file(image, "thumb") if shows_files else None,
            "viewer_path": image_viewer_path(image),
        },
    )
    add_never_cache_headers(response)  # the page is for the token's holder only
    return response


urlpatterns = [
    # Before the viewer's pattern, which would otherwise take "<id>/edit" as nothing at all.
    re_path(r"^image/(?P<encoded>[A-Za-z0-9]+)/edit/?$", image_edit_page, name="image-edit"),
    re_path(r"^image/(?P<encoded>[A-Za-z0-9]+)/remove/?$", image_remove_page, name="image-remove"),
    re_path(r"^oembed/?$", oembed, name="oembed"),
    re_path(
        r"^(?P<kind>image|video)/(?P<encoded>[A-Za-z0-9]+)/delete/(?P<token>[0-9a-f]{48})/?$",
        delete,
        name="image-delete",
    ),
    re_path(r"^(?P<kind>image|video)/(?P<token>[^/]+)/?$", viewer, name="image-viewer"),
]
