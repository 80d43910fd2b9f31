"""Serving stored files at /images/...: type from the row, caching, HTTP ranges.

Local storage is streamed by the app; remote storage (S3) gets a redirect to the
storage's own URL. A derivative that does not exist yet is made on demand.
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime

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

from uploads.derivatives import DerivativeFailed, image_derivatives_generate
from uploads.files import BITS, StoredFile, variant_file
from uploads.models import Image
from uploads.selectors import image_for_storage_name

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
ONE_YEAR = 365 * 86400


def _is_local() -> bool:
    try:
        default_storage.path("x")
    except NotImplementedError:
        return False
    return True


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


def _cache_headers(response: HttpResponse, image: Image, etag: str, modified: datetime) -> None:
    max_age = ONE_YEAR
    if image.expires_at is not None:
        # A cache must not keep serving an upload after it expires.
        max_age = max(0, math.floor((image.expires_at - timezone.now()).total_seconds()))
    response["Cache-Control"] = f"public, max-age={max_age}" + (
        ", immutable" if image.expires_at is None else ""
    )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified.timestamp())
    response["X-Content-Type-Options"] = "nosniff"
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


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end) inclusive; None to serve everything; False when unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match:
        return None  # multiple or malformed ranges: a full response is always allowed
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
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
    image, stored = _ensure_exists(*found)
    if not _is_local():
        return HttpResponseRedirect(default_storage.url(stored.name))
    full = default_storage.path(stored.name)
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
        _cache_headers(response, image, etag, modified)
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
    _cache_headers(response, image, etag, modified)
    return response
