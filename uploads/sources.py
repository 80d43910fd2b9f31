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
from typing import IO, NoReturn

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile

from uploads import urlfetch
from uploads.errors import CODE_BAD_BASE64, CODE_EMPTY_SOURCE, UploadError, too_big

_CHUNK = 1024 * 1024
_DATA_URI = re.compile(r"^data:[\w.+/-]*(?:;[\w.+-]+=[^;,]*)*;base64,", re.IGNORECASE)
_BASE64_ALPHABET = re.compile(rb"^[A-Za-z0-9+/=_-]*$")


class Origin:
    """Where an upload's bytes came from: the upload policy depends on it (URL uploads are a
    site setting of their own), so the source carries it rather than the caller saying it."""

    FILE = "file"
    BASE64 = "base64"
    URL = "url"


@dataclass
class SourceFile:
    path: str
    size: int
    md5: str
    original_name: str = ""
    origin: str = Origin.FILE
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


class Base64Sink:
    """Decodes base64 fed in pieces (raw, URL-safe or a data: URI) into a temporary file.

    Nothing is held but a few bytes of carry: the decoded bytes go to disk and into the
    md5 as they come, and the upload is refused the moment it passes ``max_bytes``, which
    the caller may lower while feeding (a guest key read after the first bytes).
    """

    _HEAD_MAX = 256  # the longest data: URI prefix accepted

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._out = _temp_file()
        self._digest = hashlib.md5(usedforsecurity=False)
        self._head = b""  # bytes seen before we know whether a data: prefix comes
        self._started = False
        self._carry = b""
        self._padded = False
        self._closed = False

    def feed(self, data: bytes) -> None:
        # Whitespace and line breaks are common in pasted or MIME-wrapped base64.
        data = data.translate(None, b" \t\r\n\f\v")
        if not self._started:
            data = self._strip_prefix(self._head + data)
            if data is None:
                return
        if not data:
            return
        if not _BASE64_ALPHABET.match(data):
            self._fail(_bad_base64())
        if self._padded and data.strip(b"=") != b"":
            self._fail(_bad_base64())  # data after the padding
        if b"=" in data:
            self._padded = True
            data = data.rstrip(b"=")
            if b"=" in data:
                self._fail(_bad_base64())
        if b"-" in data or b"_" in data:
            data = data.translate(_URLSAFE)
        data = self._carry + data
        usable = len(data) // 4 * 4
        self._carry = data[usable:]
        if usable:
            self._write(data[:usable])

    def limit(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        if self.size > max_bytes:
            self._fail(too_big(max_bytes))

    def finish(self) -> SourceFile:
        if not self._started:
            # Never saw where the data starts: a bare or over-long "data:" prefix.
            self._fail(
                _bad_base64()
                if self._head
                else UploadError("Empty upload source", code=CODE_EMPTY_SOURCE)
            )
        if len(self._carry) % 4 == 1:
            self._fail(_bad_base64())
        if self._carry:
            self._write(self._carry + b"=" * (-len(self._carry) % 4))
            self._carry = b""
        if self.size == 0:
            self._fail(UploadError("Empty upload source", code=CODE_EMPTY_SOURCE))
        self._out.close()
        self._closed = True
        return SourceFile(
            path=self._out.name, size=self.size, md5=self._digest.hexdigest(), origin=Origin.BASE64
        )

    def abort(self) -> None:
        """Drop the partial file; safe to call at any time, and more than once."""
        if not self._closed:
            self._closed = True
            self._out.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._out.name)

    def _strip_prefix(self, data: bytes) -> bytes | None:
        if data[:5].lower() != b"data:"[: len(data[:5])]:
            self._started = True
            return data
        comma = data.find(b",")
        if comma < 0:
            if len(data) > self._HEAD_MAX:
                self._fail(_bad_base64())
            self._head = data
            return None
        if not _DATA_URI.match(data[: comma + 1].decode("ascii", "replace")):
            self._fail(_bad_base64())
        self._started = True
        self._head = b""
        return data[comma + 1 :]

    def _write(self, encoded: bytes) -> None:
        try:
            chunk = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            self._fail(_bad_base64())
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self._fail(too_big(self.max_bytes))
        self._digest.update(chunk)
        self._out.write(chunk)

    def _fail(self, error: UploadError) -> NoReturn:
        self.abort()
        raise error


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _bad_base64() -> UploadError:
    return UploadError("Invalid base64 string", code=CODE_BAD_BASE64)


def from_base64(value: str, *, max_bytes: int) -> SourceFile:
    """A base64 string (raw, URL-safe or a data: URI), decoded in slices to a file.

    Slices keep the peak at one copy of the text plus a slice: the whole string is never
    encoded, cleaned or decoded at once.
    """
    sink = Base64Sink(max_bytes=max_bytes)
    try:
        for start in range(0, len(value), _CHUNK):
            sink.feed(value[start : start + _CHUNK].encode("ascii", "replace"))
        return sink.finish()
    except BaseException:
        sink.abort()
        raise


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
        origin=Origin.URL,
    )
