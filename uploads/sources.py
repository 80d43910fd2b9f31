"""Turn what a client sent (file, base64, URL) into a size-capped local temporary file.

Every source ends up as a `SourceFile`: a path on local disk, its size and md5, and the
name the client gave. Whoever opens one closes it; closing deletes the temporary file
unless storage took it over.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile

from uploads import urlfetch
from uploads.errors import CODE_BAD_BASE64, CODE_EMPTY_SOURCE, CODE_INVALID, UploadError

_CHUNK = 1024 * 1024
_DATA_URI = re.compile(r"^data:[\w.+/-]*(?:;[\w.+-]+=[^;,]*)*;base64,", re.IGNORECASE)
_BASE64_ALPHABET = re.compile(rb"^[A-Za-z0-9+/=_-]*$")


def too_big(limit: int) -> UploadError:
    mb = limit / (1024 * 1024)
    return UploadError(f"File too big - max {mb:g} MB", code=CODE_INVALID, status=413)


@dataclass
class SourceFile:
    path: str
    size: int
    md5: str
    original_name: str = ""
    # Set when storage moved the file away: there is nothing left to delete.
    consumed: bool = False
    _owned: bool = field(default=True, repr=False)

    def close(self) -> None:
        if self._owned and not self.consumed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _temp_file() -> IO[bytes]:
    return tempfile.NamedTemporaryFile(
        prefix="upload-", suffix=".tmp", dir=settings.FILE_UPLOAD_TEMP_DIR, delete=False
    )


def from_uploaded_file(uploaded: UploadedFile, *, max_bytes: int) -> SourceFile:
    """A multipart file. Django already streamed it to a temporary file (and hashed it)."""
    if uploaded.size is not None and uploaded.size > max_bytes:
        raise too_big(max_bytes)
    if uploaded.size == 0:
        raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE, status=400)
    name = os.path.basename((uploaded.name or "").replace("\\", "/"))
    if isinstance(uploaded, TemporaryUploadedFile):
        md5 = getattr(uploaded, "md5", "") or md5_of_path(uploaded.temporary_file_path())
        # The request owns that temporary file and deletes it when it ends, unless storage
        # moves it first: either way nothing is left behind.
        return SourceFile(
            path=uploaded.temporary_file_path(),
            size=uploaded.size or 0,
            md5=md5,
            original_name=name,
            _owned=True,
        )
    # In-memory uploads (another handler configured): copy out to a file we own.
    out = _temp_file()
    digest = hashlib.md5(usedforsecurity=False)
    try:
        for chunk in uploaded.chunks(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.close()
    except BaseException:
        out.close()
        os.unlink(out.name)
        raise
    return SourceFile(
        path=out.name, size=uploaded.size or 0, md5=digest.hexdigest(), original_name=name
    )


def md5_of_path(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def looks_like_url(value: str) -> bool:
    head = value[:12].lower()
    return "://" in value[:16] or head.startswith(("http:", "https:", "file:", "ftp:"))


def looks_like_data_uri(value: str) -> bool:
    return value[:5].lower() == "data:"


def from_base64(value: str, *, max_bytes: int) -> SourceFile:
    """A base64 string (raw, URL-safe or a data: URI), decoded in chunks to a file."""
    text = value.strip()
    match = _DATA_URI.match(text)
    if match:
        text = text[match.end() :]
    elif looks_like_data_uri(text):
        raise UploadError("Invalid base64 string", code=CODE_BAD_BASE64)
    # Whitespace and line breaks are common in pasted or MIME-wrapped base64.
    data = re.sub(r"\s+", "", text).encode("ascii", "replace")
    if not data:
        raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE)
    if not _BASE64_ALPHABET.match(data):
        raise UploadError("Invalid base64 string", code=CODE_BAD_BASE64)
    if b"-" in data or b"_" in data:
        data = data.translate(bytes.maketrans(b"-_", b"+/"))
    data = data.rstrip(b"=")
    if len(data) % 4 == 1:
        raise UploadError("Invalid base64 string", code=CODE_BAD_BASE64)
    data += b"=" * (-len(data) % 4)
    if len(data) // 4 * 3 - 2 > max_bytes:
        raise too_big(max_bytes)
    out = _temp_file()
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    step = _CHUNK // 3 * 4  # a multiple of 4 characters decodes independently
    try:
        for start in range(0, len(data), step):
            chunk = base64.b64decode(data[start : start + step], validate=True)
            size += len(chunk)
            digest.update(chunk)
            out.write(chunk)
        out.close()
    except (binascii.Error, ValueError):
        out.close()
        os.unlink(out.name)
        raise UploadError("Invalid base64 string", code=CODE_BAD_BASE64) from None
    except BaseException:
        out.close()
        os.unlink(out.name)
        raise
    if size == 0:
        os.unlink(out.name)
        raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE)
    if size > max_bytes:
        os.unlink(out.name)
        raise too_big(max_bytes)
    return SourceFile(path=out.name, size=size, md5=digest.hexdigest())


def from_url(url: str, *, max_bytes: int) -> SourceFile:
    """Fetch an http(s) URL, refusing private addresses (see uploads.urlfetch)."""
    out = _temp_file()
    try:
        result = urlfetch.fetch_to_file(
            url,
            out,
            max_bytes=max_bytes,
            allow_loopback=settings.UPLOAD_URL_ALLOW_LOOPBACK,
            timeout=float(settings.UPLOAD_URL_TIMEOUT),
            total_timeout=float(settings.UPLOAD_URL_TIMEOUT) * 4,
        )
        out.close()
    except urlfetch.UrlTooLarge:
        out.close()
        os.unlink(out.name)
        raise too_big(max_bytes) from None
    except urlfetch.UrlFetchError as exc:
        out.close()
        os.unlink(out.name)
        raise UploadError(exc.message, code=exc.code, status=exc.http_status) from None
    except BaseException:
        out.close()
        os.unlink(out.name)
        raise
    if result.size == 0:
        os.unlink(out.name)
        raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE)
    return SourceFile(
        path=out.name,
        size=result.size,
        md5=md5_of_path(out.name),
        original_name=os.path.basename(result.filename or ""),
    )
