"""Serving stored files at /images/...: type from the row, caching, HTTP ranges.

Local storage is streamed by the app; remote storage (S3) gets a redirect to the
storage's own URL. A derivative that does not exist yet is made on demand.

Who may fetch a file is `image_file_visible_to`'s answer (a hidden file is a 404, so its
existence is not revealed). Caching follows the same rule, asked for a guest:
- listed for everyone (approved, active owner, no album or a public one), not expiring:
  `public, max-age=<1 year>, immutable`; the name never changes, and moderating or deleting
  such an upload later is the accepted cost of caching public images well;
- reachable by everyone only as a capability link (an upload in a link-only, password or
  private album): `public, max-age=3600`. Shared caches still absorb embeds, but a deletion,
  a ban or a moderation decision reaches them within an hour instead of a year;
- served only because the viewer is its owner or staff (awaiting moderation, banned owner):
  `private, no-store`, so no cache ever hands it to someone else;
- expiring: the max-age is capped at the time left, and never `immutable`.
Public files are answered without touching the session, so they carry no `Vary: Cookie`.

Profile images (avatars, backgrounds) are served at /profiles/... by `serve_profile_file`.
"""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, datetime

from django.core.files.storage import Storage as DjangoStorage
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from albums.selectors import GUEST, viewer_from_request
from chevereto.core.securityheaders import media_headers, media_object_parameters
from uploads.derivatives import DerivativeFailed, image_derivatives_generate
from uploads.files import BITS, StoredFile, variant_file
from uploads.models import Image
from uploads.profile_assets import profile_image_mime, profile_image_owner
from uploads.selectors import image_file_visible_to, image_for_storage_name, image_listed_for
from uploads.storage import storage_is_local, storage_of

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
ONE_YEAR = 365 * 86400
CAPABILITY_MAX_AGE = 3600
# No file is larger than this many digits of bytes; longer numbers in a Range header are
# answered without int(), which refuses strings over 4300 digits (a 500 before).
_MAX_DIGITS = 18


def _is_local(storage: DjangoStorage) -> bool:
    return storage_is_local(storage)


def _remote_url(storage: DjangoStorage, name: str, *, mime: str) -> str:
    """The storage's URL of a file. A signed S3 URL also tells S3 the type and disposition
    to answer with (from the row), so objects written before they carried that metadata,
    or copied in by other tools, are never served as a guessed type. Unsigned URLs (public
    buckets, a CDN) cannot carry overrides: there the object's own metadata applies."""
    if getattr(storage, "querystring_auth", False) and not getattr(storage, "custom_domain", None):
        params = media_object_parameters(mime=mime, filename=name.rsplit("/", 1)[-1])
        overrides = {
            "ResponseContentType": params["ContentType"],
            "ResponseContentDisposition": params["ContentDisposition"],
        }
        return storage.url(name, parameters=overrides)  # type: ignore[call-arg]
    return storage.url(name)


def _ensure_exists(image: Image, stored: StoredFile) -> tuple[Image, StoredFile]:
    if stored.variant == "image" or image.has(BITS[stored.variant]):
        return image, stored
    try:
        fresh = image_derivatives_generate(image_id=image.pk, only={stored.variant})
    except DerivativeFailed:
        raise Http404("This file cannot be rendered") from None
    if fresh is None or not fresh.has(BITS[stored.variant]):
        raise Http404("No such file")
    refreshed = variant_file(fresh, stored.variant)
    if refreshed is None:
        raise Http404("No such file")
    return fresh, refreshed


def _cache_control(image: Image, *, for_everyone: bool) -> str:
    """The Cache-Control for a file, by who else may see it (see the module docstring)."""
    if not for_everyone:
        return "private, no-store"
    listed = image_listed_for(viewer=GUEST, image=image)
    max_age = ONE_YEAR if listed else CAPABILITY_MAX_AGE
    if image.expires_at is not None:
        # A cache must not keep serving an upload after it expires.
        left = math.floor((image.expires_at - timezone.now()).total_seconds())
        return f"public, max-age={max(0, min(max_age, left))}"
    return f"public, max-age={max_age}" + (", immutable" if listed else "")


def _cache_headers(response: HttpResponse, cache: str, etag: str, modified: datetime) -> None:
    response["Cache-Control"] = cache
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified.timestamp())
    response["Accept-Ranges"] = "bytes"


def _not_modified(request: HttpRequest, etag: str, modified: datetime) -> bool:
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or etag in tags or f"W/{etag}" in tags
    ims = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if ims:
        since = parse_http_date_safe(ims)
        return since is not None and int(modified.timestamp()) <= since
    return False


def _number(digits: str) -> int:
    """A byte position; anything longer than any file could be is simply "past the end"."""
    stripped = digits.lstrip("0") or "0"
    if len(stripped) > _MAX_DIGITS:
        return 10**_MAX_DIGITS
    return int(stripped)


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end) inclusive; None to serve everything; False when unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match:
        return None  # multiple or malformed ranges: a full response is always allowed
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = _number(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = _number(first)
    end = _number(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


class _RangeFile:
    """Reads at most `remaining` bytes from an open file, for a ranged FileResponse."""

    def __init__(self, handle: object, remaining: int) -> None:
        self.handle = handle
        self.remaining = remaining

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.handle.read(size)  # type: ignore[attr-defined]
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()  # type: ignore[attr-defined]


@require_safe
def serve_file(request: HttpRequest, path: str) -> HttpResponse:
    found = image_for_storage_name(f"images/{path}")
    if found is None:
        raise Http404("No such file")
    # Ask for a guest first: public files never touch the session (no Vary: Cookie).
    for_everyone = image_file_visible_to(viewer=GUEST, image=found[0])
    if not for_everyone and not image_file_visible_to(
        viewer=viewer_from_request(request), image=found[0]
    ):
        raise Http404("No such file")  # hidden files are not found, as if they did not exist
    cache = _cache_control(found[0], for_everyone=for_everyone)
    image, stored = _ensure_exists(*found)
    # The row says where its files are now: during a storage migration, readers follow it.
    storage = storage_of(image)
    if not _is_local(storage):
        return HttpResponseRedirect(_remote_url(storage, stored.name, mime=stored.mime))
    full = storage.path(stored.name)
    try:
        handle = open(full, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:
        raise Http404("No such file") from None
    size = os.fstat(handle.fileno()).st_size
    modified = image.created_at
    etag = f'"{image.md5[:16]}-{stored.variant}-{size:x}"'
    if _not_modified(request, etag, modified):
        handle.close()
        response: HttpResponse = HttpResponseNotModified()
        _cache_headers(response, cache, etag, modified)
        media_headers(response, mime=stored.mime, filename=stored.filename)
        return response
    wanted = (
        _byte_range(request.META.get("HTTP_RANGE", ""), size)
        if "HTTP_RANGE" in request.META
        else None
    )
    if_range = request.META.get("HTTP_IF_RANGE")
    if wanted not in (None, False) and if_range and if_range != etag:
        wanted = None  # the client's copy is stale: send the whole file
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        media_headers(response, mime=stored.mime, filename=stored.filename)
        return response
    if wanted is None:
        response = FileResponse(handle, content_type=stored.mime)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted  # type: ignore[misc]
        handle.seek(start)
        response = FileResponse(
            _RangeFile(handle, end - start + 1), content_type=stored.mime, status=206
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    _cache_headers(response, cache, etag, modified)
    # Served as the row's type, never guessed from the name, and never as a document.
    media_headers(response, mime=stored.mime, filename=stored.filename)
    return response


# Profile images are public wherever their profile is shown, under random names that are
# never reused; an hour in shared caches lets a ban or a replacement reach them soon.
PROFILE_MAX_AGE = 3600


@require_safe
def serve_profile_file(request: HttpRequest, path: str) -> HttpResponse:
    """An avatar or background at /profiles/...: anyone may fetch the current one of an
    active user; a replaced, cleared or unknown name is a 404."""
    name = f"profiles/{path}"
    owner = profile_image_owner(name)
    if owner is None:
        raise Http404("No such file")
    # Profile images stay on the default storage (see uploads/storage_migration.py).
    if not _is_local(default_storage):
        return HttpResponseRedirect(
            _remote_url(default_storage, name, mime=profile_image_mime(name))
        )
    try:
        handle = open(default_storage.path(name), "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:
        raise Http404("No such file") from None
    stat = os.fstat(handle.fileno())
    modified = datetime.fromtimestamp(int(stat.st_mtime), tz=UTC)
    etag = f'"{os.path.basename(name).split(".")[0][:16]}-{stat.st_size:x}"'
    cache = f"public, max-age={PROFILE_MAX_AGE}"
    if _not_modified(request, etag, modified):
        handle.close()
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = FileResponse(handle, content_type=profile_image_mime(name))
        response["Content-Length"] = str(stat.st_size)
    _cache_headers(response, cache, etag, modified)
    media_headers(response, mime=profile_image_mime(name), filename=os.path.basename(name))
    return response
