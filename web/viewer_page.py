"""What the viewer page shows of one upload, built in a constant number of queries.

The upload row arrives with its owner and album (and the album's owner) already joined by
`image_get_by_encoded_id`; the rest costs one query each whatever its size: the tags, the
category (when there is one), the like state (logged-in visitors), the album neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest

from albums.selectors import Viewer, album_path
from chevereto.core.encoding import encode_id
from social.selectors import likes_it
from uploads.files import StoredFile, variant_file
from uploads.models import Image
from uploads.selectors import album_images_visible_to, image_tag_names, image_viewer_path
from web.embeds import image_codes

# The EXIF keys the summary shows, in this order. Location tags (GPS*) are never among them:
# a photo's position stays out of the page even when the site keeps its EXIF.
EXIF_LABELS = (
    ("camera", "Camera"),
    ("LensModel", "Lens"),
    ("ExposureTime", "Exposure"),
    ("FNumber", "Aperture"),
    ("ISO", "ISO"),
    ("FocalLength", "Focal length"),
    ("DateTimeOriginal", "Taken"),
)


@dataclass(frozen=True)
class Files:
    """Absolute URLs of what the page shows and what unfurlers fetch."""

    original: str  # the uploaded file (Chevereto's og:image for pictures)
    display: str  # medium, or the original when there is none; a video's frame
    still: str  # the picture of the upload: the original, or a video's frame
    thumb: str
    thumb_width: int
    thumb_height: int


def _absolute(request: HttpRequest, stored: StoredFile | None) -> str:
    return request.build_absolute_uri("/" + stored.name) if stored is not None else ""


def image_files(image: Image, request: HttpRequest) -> Files:
    files = {v: variant_file(image, v) for v in ("image", "thumb", "medium", "frame")}
    original = request.build_absolute_uri("/" + image.path)
    if image.is_video:
        still = _absolute(request, files["frame"]) or _absolute(request, files["thumb"])
        display = still
    else:
        still = original
        display = _absolute(request, files["medium"]) or original
    thumb = _absolute(request, files["thumb"])
    return Files(
        original=original,
        display=display,
        still=still,
        thumb=thumb,
        thumb_width=image.thumb_width if thumb else 0,
        thumb_height=image.thumb_height if thumb else 0,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) for v in value)
    ):
        return float(value[0]) / float(value[1]) if value[1] else None
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def exif_summary(exif: Any) -> list[tuple[str, str]]:
    """Camera, lens, exposure, aperture, ISO, focal length and date taken, the ones present,
    as (label, text). Only these keys are read: nothing else of the EXIF reaches the page."""
    if not isinstance(exif, dict):
        return []
    found: dict[str, str] = {}
    make, model = _text(exif.get("Make")), _text(exif.get("Model"))
    # Many cameras repeat the make in the model ("Canon" / "Canon EOS R5").
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}"
    if camera.strip():
        found["camera"] = camera.strip()
    if lens := _text(exif.get("LensModel")):
        found["LensModel"] = lens
    exposure = _number(exif.get("ExposureTime"))
    if exposure and exposure > 0:
        found["ExposureTime"] = f"1/{round(1 / exposure)} s" if exposure < 1 else f"{exposure:g} s"
    aperture = _number(exif.get("FNumber"))
    if aperture and aperture > 0:
        found["FNumber"] = f"f/{aperture:.1f}".replace(".0", "")
    iso = exif.get("ISOSpeedRatings", exif.get("PhotographicSensitivity"))
    if isinstance(iso, list | tuple) and iso:
        iso = iso[0]
    if isinstance(iso, int) and not isinstance(iso, bool) and iso > 0:
        found["ISO"] = str(iso)
    focal = _number(exif.get("FocalLength"))
    if focal and focal > 0:
        found["FocalLength"] = f"{focal:g} mm"
    taken = _text(exif.get("DateTimeOriginal"))
    if len(taken) >= 16 and taken[4] == ":" and taken[7] == ":":
        # EXIF writes "2024:05:06 07:08:09"; shown as a date.
        found["DateTimeOriginal"] = taken[:10].replace(":", "-") + taken[10:16]
    return [(label, found[key]) for key, label in EXIF_LABELS if key in found]


def _thumb(image: Image) -> str:
    stored = variant_file(image, "frame" if image.is_video else "thumb") or variant_file(
        image, "thumb"
    )
    return "/" + stored.name if stored is not None else "/" + image.path


def album_neighbours(*, viewer: Viewer, image: Image) -> dict[str, dict[str, str] | None]:
    """The uploads before and after this one in its album (by created_at, id) among those
    the album page shows this viewer: two indexed queries, whatever the album's size."""
    if image.album_id is None:
        return {"previous": None, "next": None}
    # Only what a link and its thumbnail need (`variant_file` reads no other field).
    shown = album_images_visible_to(viewer=viewer, album=image.album).only(
        "id", "title", "kind", "path", "mime", "medium_width", "created_at"
    )
    at, pk = image.created_at, image.pk
    before = shown.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    after = shown.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))
    found = {
        "previous": before.order_by("-created_at", "-id").first(),
        "next": after.order_by("created_at", "id").first(),
    }
    return {
        name: (
            {"url": image_viewer_path(one), "title": one.title or "Untitled", "thumb": _thumb(one)}
            if one is not None
            else None
        )
        for name, one in found.items()
    }


def _codes(image: Image, request: HttpRequest) -> list[dict[str, Any]]:
    """The embed codes by group (Links, HTML, Markdown, BBCode), each with an element id."""
    groups: dict[str, list[dict[str, str]]] = {}
    for number, code in enumerate(image_codes(image, request)):
        groups.setdefault(code.group, []).append(
            {"id": f"code-{number}", "label": code.label, "value": code.value}
        )
    return [{"name": name, "slug": name.lower(), "codes": codes} for name, codes in groups.items()]


def viewer_context(
    *, request: HttpRequest, image: Image, viewer: Viewer, canonical: str
) -> dict[str, Any]:
    user = request.user
    files = image_files(image, request)
    owner = image.user
    may_manage = bool(
        user.is_authenticated and (user.is_staff or (owner is not None and owner.pk == user.pk))
    )
    category = image.category if image.category_id is not None else None
    canonical_url = request.build_absolute_uri(canonical)
    return {
        "image": image,
        "title": image.title or "Untitled",
        "encoded_id": encode_id(image.pk),
        "files": files,
        "canonical_url": canonical_url,
        "viewer_path": canonical,
        "owner": owner,
        "album": image.album,
        "album_url": album_path(image.album) if image.album is not None else "",
        "category": category,
        "tags": image_tag_names(image_ids=[image.pk]).get(image.pk, []),
        "liked": likes_it(user=user, image_id=image.pk) if user.is_authenticated else False,
        "exif": exif_summary(image.exif),
        "neighbours": album_neighbours(viewer=viewer, image=image),
        "code_groups": _codes(image, request),
        "may_manage": may_manage,
        "oembed_url": oembed_discovery_url(request, canonical_url),
        "description_meta": (image.description or image.title or "")[:300],
    }


def oembed_discovery_url(request: HttpRequest, viewer_url: str) -> str:
    query = urlencode({"url": viewer_url, "format": "json"})
    return request.build_absolute_uri("/oembed/") + "?" + query
