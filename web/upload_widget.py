"""What the upload widget shows before anything is uploaded: the limits, the choices of
each option (albums, categories, expiration), for the viewer at hand."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from albums.models import Album
from albums.selectors import albums_of_owner
from chevereto.core.encoding import encode_id
from chevereto.core.formats import FORMATS
from chevereto.core.models import SiteSettings
from uploads.errors import UploadError
from uploads.models import Category
from uploads.policy import check_origin, max_upload_bytes
from uploads.representation import size_formatted
from uploads.sources import Origin
from web.upload_json import session_uploader

# Chevereto's auto-delete choices, as ISO-8601 durations (what `expiration` takes).
EXPIRATIONS: list[tuple[str, str]] = [
    ("", "Don't autodelete"),
    ("PT5M", "After 5 minutes"),
    ("PT15M", "After 15 minutes"),
    ("PT30M", "After 30 minutes"),
    ("PT1H", "After 1 hour"),
    ("PT3H", "After 3 hours"),
    ("PT6H", "After 6 hours"),
    ("PT12H", "After 12 hours"),
    ("P1D", "After 1 day"),
    ("P2D", "After 2 days"),
    ("P3D", "After 3 days"),
    ("P4D", "After 4 days"),
    ("P5D", "After 5 days"),
    ("P6D", "After 6 days"),
    ("P1W", "After 1 week"),
    ("P2W", "After 2 weeks"),
    ("P3W", "After 3 weeks"),
    ("P1M", "After 1 month"),
    ("P2M", "After 2 months"),
    ("P3M", "After 3 months"),
    ("P4M", "After 4 months"),
    ("P5M", "After 5 months"),
    ("P6M", "After 6 months"),
    ("P1Y", "After 1 year"),
]


def may_upload(request: HttpRequest) -> bool:
    """Whether the widget is offered: to users, and to guests when the site takes theirs
    (the upload service decides again on every upload)."""
    return bool(request.user.is_authenticated or SiteSettings.load().guest_uploads)


def _url_uploads_allowed(site: SiteSettings, user: Any) -> bool:
    # Asked of the upload policy itself, so the page never promises what it then refuses.
    try:
        check_origin(site=site, user=user, origin=Origin.URL)
    except UploadError:
        return False
    return True


def widget_context(request: HttpRequest, **values: Any) -> dict[str, Any]:
    """The template context of `web/upload/_widget.html`; `values` refills the no-JS form."""
    site = SiteSettings.load()
    user = session_uploader(request.user)
    # The site lists formats by file extension (what `check_format` compares).
    enabled = [f for f in FORMATS.values() if f.extension in site.formats]
    max_bytes = max_upload_bytes(user=user)
    albums: list[dict[str, str]] = []
    if user is not None:
        owned = albums_of_owner(owner_id=user.pk).order_by("name", "pk")
        albums = [
            {"id": encode_id(album.pk), "name": album.name, "privacy": album.privacy}
            for album in owned
        ]
    return {
        "limits": {
            "max_bytes": max_bytes,
            "max_size": size_formatted(max_bytes),
            "formats": [f.extension.upper() for f in enabled],
            "accept": ",".join(
                sorted({f.mime for f in enabled} | {"." + f.extension for f in enabled})
            ),
            "url_allowed": _url_uploads_allowed(site, user),
            "guest": user is None,
        },
        "albums": albums,
        "album_privacies": Album.Privacy.choices,
        "categories": list(Category.objects.order_by("name").values("id", "name")),
        "expirations": EXPIRATIONS if site.expirable_uploads else [],
        "values": values,
    }
