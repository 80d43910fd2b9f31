"""oEmbed (https://oembed.com) for viewer URLs, so links unfold in chat apps and CMSs.

`GET /oembed/?url=<viewer URL>&format=json[&maxwidth=..&maxheight=..]`. Consumers fetch it
anonymously, so it answers what a guest would see: an upload hidden from guests (private or
password album, awaiting moderation, expired, missing) is a 404 like a URL of another site.
Pictures answer type "photo", videos type "video" with a `<video>` element as `html`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_http_methods

from albums.selectors import GUEST
from chevereto.core.models import SiteSettings
from uploads.files import variant_file
from uploads.models import Image
from uploads.selectors import image_get_by_encoded_id, image_visible_to

VIEWER_PATH = re.compile(r"^/(?:image|video)/(?:[^/]*\.)?(?P<encoded>[A-Za-z0-9]+)/?$")
# How long a shared cache may keep an answer: edits and deletions show up soon enough.
MAX_AGE = 300


def _limit(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise Http404(f"Invalid {name}")
    return int(raw)


def _image_of(request: HttpRequest, url: str) -> Image:
    """The upload behind a viewer URL of this site that a guest may open, else a 404."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != request.get_host().lower():
        raise Http404("Not a URL of this site")
    match = VIEWER_PATH.match(parts.path)
    if match is None:
        raise Http404("Not a viewer URL")
    image = image_get_by_encoded_id(match["encoded"])
    if image is None or not image_visible_to(viewer=GUEST, image=image):
        raise Http404("No such upload")
    return image


def _fit(width: int, height: int, maxwidth: int | None, maxheight: int | None) -> tuple[int, int]:
    """The size scaled down (never up) to fit the consumer's box, keeping the ratio."""
    scale = 1.0
    if maxwidth is not None and width > maxwidth:
        scale = min(scale, maxwidth / width)
    if maxheight is not None and height > maxheight:
        scale = min(scale, maxheight / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _photo(
    request: HttpRequest, image: Image, maxwidth: int | None, maxheight: int | None
) -> dict[str, Any]:
    absolute = request.build_absolute_uri
    sizes = [(absolute("/" + image.path), image.width, image.height)]
    medium = variant_file(image, "medium")
    if medium is not None and image.medium_width and image.medium_height:
        sizes.append((absolute("/" + medium.name), image.medium_width, image.medium_height))

    def fits(size: tuple[str, int, int]) -> bool:
        _, w, h = size
        return (maxwidth is None or w <= maxwidth) and (maxheight is None or h <= maxheight)

    fitting = [size for size in sizes if fits(size)]
    # The largest that fits; else the smallest, with the size it must be shown at.
    url, width, height = (
        max(fitting, key=lambda s: s[1]) if fitting else min(sizes, key=lambda s: s[1])
    )
    width, height = _fit(width, height, maxwidth, maxheight)
    return {"type": "photo", "url": url, "width": width, "height": height}


def _video(
    request: HttpRequest, image: Image, maxwidth: int | None, maxheight: int | None
) -> dict[str, Any]:
    absolute = request.build_absolute_uri
    width, height = _fit(image.width, image.height, maxwidth, maxheight)
    frame = variant_file(image, "frame")
    poster = f' poster="{escape(absolute("/" + frame.name))}"' if frame is not None else ""
    html = (
        f'<video controls preload="metadata" width="{width}" height="{height}"{poster}>'
        f'<source src="{escape(absolute("/" + image.path))}" type="{escape(image.mime)}">'
        "</video>"
    )
    return {"type": "video", "html": html, "width": width, "height": height}


@require_http_methods(["GET", "HEAD"])
def oembed(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "json").strip().lower() or "json"
    image = _image_of(request, request.GET.get("url", ""))
    if fmt != "json":
        # The spec's answer for a format the provider does not offer.
        return HttpResponse("Only format=json is offered.", status=501, content_type="text/plain")
    maxwidth, maxheight = _limit(request, "maxwidth"), _limit(request, "maxheight")
    site = SiteSettings.load()
    answer: dict[str, Any] = {
        "version": "1.0",
        "title": image.title or image.original_filename or "Untitled",
        "provider_name": site.site_name,
        "provider_url": request.build_absolute_uri("/"),
        "cache_age": MAX_AGE,
    }
    if image.user is not None:
        answer["author_name"] = image.user.username
        answer["author_url"] = request.build_absolute_uri("/" + image.user.username)
    build = _video if image.is_video else _photo
    answer.update(build(request, image, maxwidth, maxheight))
    thumb = variant_file(image, "thumb")
    if thumb is not None and image.thumb_width and image.thumb_height:
        answer["thumbnail_url"] = request.build_absolute_uri("/" + thumb.name)
        answer["thumbnail_width"] = image.thumb_width
        answer["thumbnail_height"] = image.thumb_height
    response = JsonResponse(answer)
    max_age = MAX_AGE
    if image.expires_at is not None:
        # Never kept by a cache past the upload's expiry.
        left = int((image.expires_at - timezone.now()).total_seconds())
        max_age = max(0, min(max_age, left))
    # What a guest sees, so shared caches may keep it; any site may read it (public data).
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response
