"""Request-body parsers shared by API V1 and API V4.

`SafeJSONParser`: DRF's JSONParser lets a deeply nested body (``[[[[...]]]]`` 100,000
deep) reach Python's recursion limit: a RecursionError, which DRF does not turn into a 400.
This one does.
`StreamingFormParser` and `StreamingMultiPartParser`: an upload body is read in chunks,
never held whole, and refused as soon as it passes the uploader's limit.

Every parser here refuses, from its Content-Length and before reading it, a body bigger
than the operation can need: BODY_MAX_WITHOUT_UPLOAD where it takes no upload (no
``parser_context["limits"]``), and DATA_UPLOAD_MAX_MEMORY_SIZE for a JSON body, which is
held whole. DRF's own parsers would read any size: JSON and forms into memory, a file
part of a multipart body onto disk.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import StopFutureHandlers
from django.http import QueryDict
from django.http.multipartparser import (
    FIELD,
    FIELD_TYPES,
    FILE,
    ChunkIter,
    LazyStream,
    MultiPartParserError,
    Parser,
    exhaust,
)
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.utils.datastructures import MultiValueDict
from django.utils.encoding import force_str
from rest_framework import exceptions, parsers

from uploads import sources

# A body to an operation that takes no upload holds small fields alone: the longest, a
# description of 25,000 characters, is at most 150 KB as JSON escapes.
BODY_MAX_WITHOUT_UPLOAD = 1024 * 1024


def refuse_oversized_body(parser_context: Any, *, held_whole: bool = False) -> None:
    """RequestDataTooBig (a 413) if the declared body is more than the operation reads."""
    context = parser_context or {}
    request = context.get("request")
    if request is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return  # Django reads no body from a length it cannot parse
    if context.get("limits") is None:
        limit = BODY_MAX_WITHOUT_UPLOAD
    elif held_whole:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    else:
        return  # the streaming parsers stop at the uploader's own limit
    if length > limit:
        raise _too_big()


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        refuse_oversized_body(parser_context, held_whole=True)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None


# A `source`/`image` value longer than this is no URL: it is streamed as base64.
_INLINE_SOURCE_MAX = 16 * 1024
# Every other field is small (the longest, a description, is 25,000 characters, up to
# 9 bytes each once percent-encoded).
_FIELD_MAX = 256 * 1024
_FIELDS_TOTAL_MAX = 1024 * 1024
_READ = 64 * 1024
_STREAMED_FIELDS = frozenset({b"source", b"image"})


def _unquote(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))


class BodyLimits(Protocol):
    """What a view tells the streaming parser (through ``parser_context["limits"]``)."""

    def initial_upload_limit(self) -> int: ...

    def upload_limit_for_key(self, raw: str) -> int:
        """The file size limit for the key just read from the body; may raise (bad key)."""
        ...


class _FormStream:
    """One pass over an urlencoded body: small fields in memory, a long source to disk."""

    def __init__(self, limits: BodyLimits | None, encoding: str) -> None:
        self.limits = limits
        self.encoding = encoding
        self.data = QueryDict(mutable=True, encoding=encoding)
        self.files = MultiValueDict()
        self.fields = 0
        self.kept = 0
        self.name = b""
        self.value = b""
        self.in_value = False
        self.sink: sources.Base64Sink | None = None
        self.pending = b""  # percent-encoded bytes not yet decoded into the sink
        self.limit = limits.initial_upload_limit() if limits else 0

    # -- bytes in ----------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        pos = 0
        while pos < len(chunk):
            if not self.in_value:
                amp, eq = chunk.find(b"&", pos), chunk.find(b"=", pos)
                ends = [i for i in (amp, eq) if i >= 0]
                if not ends:
                    self._grow_name(chunk[pos:])
                    return
                end = min(ends)
                self._grow_name(chunk[pos:end])
                pos = end + 1
                if end == eq:
                    self.in_value = True
                else:
                    self._finish_field()
            else:
                amp = chunk.find(b"&", pos)
                self._grow_value(chunk[pos:] if amp < 0 else chunk[pos:amp])
                if amp < 0:
                    return
                pos = amp + 1
                self._finish_field()

    def finish(self) -> None:
        if self.in_value or self.name:
            self._finish_field()

    def abort(self) -> None:
        if self.sink is not None:
            self.sink.abort()
        for _, held in self.files.lists():
            for source in held:
                source.close()

    # -- fields ------------------------------------------------------------------------

    def _grow_name(self, raw: bytes) -> None:
        self.name += raw
        if len(self.name) > 1024:
            raise _too_big()

    def _grow_value(self, raw: bytes) -> None:
        if self.sink is not None:
            self._to_sink(raw)
            return
        self.value += raw
        streamable = _unquote(self.name) in _STREAMED_FIELDS and self.limits is not None
        if streamable and len(self.value) > _INLINE_SOURCE_MAX:
            self.sink = sources.Base64Sink(max_bytes=self.limit)
            held, self.value = self.value, b""
            self._to_sink(held)
        elif len(self.value) > _FIELD_MAX:
            raise _too_big()

    def _to_sink(self, raw: bytes) -> None:
        assert self.sink is not None
        raw = self.pending + raw
        # A %XX escape cut by the chunk boundary waits for its other half.
        cut = raw.rfind(b"%", max(0, len(raw) - 2))
        if cut >= 0:
            raw, self.pending = raw[:cut], raw[cut:]
        else:
            self.pending = b""
        self.sink.feed(_unquote(raw))

    def _finish_field(self) -> None:
        name = _unquote(self.name).decode(self.encoding, "replace")
        raw, self.name, self.value, self.in_value = self.value, b"", b"", False
        if self.sink is not None:
            self.sink.feed(_unquote(self.pending))
            self.pending = b""
            sink, self.sink = self.sink, None
            self.files.appendlist(name, sink.finish())
            return
        if not name:
            return
        self.fields += 1
        self.kept += len(raw)
        if self.fields > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
            raise TooManyFieldsSent("Too many fields")
        if self.kept > _FIELDS_TOTAL_MAX:
            raise _too_big()
        value = _unquote(raw).decode(self.encoding, "replace")
        self.data.appendlist(name, value)
        if name == "key" and self.limits is not None:
            self.limit = self.limits.upload_limit_for_key(value)
            for _, held in self.files.lists():
                if any(source.size > self.limit for source in held):
                    raise sources.too_big(self.limit)


def _too_big() -> RequestDataTooBig:
    return RequestDataTooBig("Request body too big")


class BoundedFormParser(parsers.FormParser):
    """DRF's form parser (for operations that take no upload), refusing a big body unread."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        refuse_oversized_body(parser_context)
        return super().parse(stream, media_type, parser_context)


class StreamingFormParser(parsers.BaseParser):
    """application/x-www-form-urlencoded, read in chunks and never held whole.

    Small fields are kept (with a cap); a long `source`/`image` value goes through an
    incremental base64 decoder into a temporary file, refused as soon as it passes the
    limit (which drops to the guest's the moment a guest key is read). The decoded file
    arrives in ``request.FILES`` as a `SourceFile`, closed (deleted) with the request.
    """

    media_type = "application/x-www-form-urlencoded"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> parsers.DataAndFiles:
        context = parser_context or {}
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        form = _FormStream(context.get("limits"), encoding)
        try:
            if stream is not None:
                while chunk := stream.read(_READ):
                    form.feed(chunk)
            form.finish()
        except BaseException:
            form.abort()
            raise
        form.data._mutable = False
        return parsers.DataAndFiles(form.data, form.files)


class _BoundedMultiPartParser(DjangoMultiPartParser):
    """Django's multipart parsing, with the upload limits applied while the body streams.

    Django holds every text field in memory (up to DATA_UPLOAD_MAX_MEMORY_SIZE), base64
    sources included. Here a long `source`/`image` text field goes through the incremental
    base64 decoder to a temporary file instead, other fields are capped, a file part stops
    at the limit, and a `key` field lowers the limit the moment it is read.
    """

    def __init__(self, *args: Any, limits: BodyLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits

    def _parse(self) -> tuple[QueryDict, MultiValueDict]:
        self._post = QueryDict(mutable=True, encoding=self._encoding)
        self._files = MultiValueDict()
        if self._content_length == 0:
            return self._post, self._files
        self._limit = self._limits.initial_upload_limit()
        self._kept = 0
        fields = files = 0
        stream = LazyStream(ChunkIter(self._input_data, self._chunk_size))
        self._pending: tuple[str, list[int]] | None = None
        try:
            for item_type, meta, field_stream in Parser(stream, self._boundary):
                if self._pending is not None:
                    # As Django does: a file is complete only once the next part begins; a body
                    # cut off inside a file part never completes it.
                    self.handle_file_complete(*self._pending)
                    self._pending = None
                if item_type in FIELD_TYPES:
                    fields += 1
                    if fields > settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 2:
                        raise TooManyFieldsSent("Too many fields")
                try:
                    disposition = meta["content-disposition"][1]
                    name = force_str(disposition["name"].strip(), self._encoding, errors="replace")
                except (KeyError, IndexError, AttributeError):
                    continue
                transfer_header = meta.get("content-transfer-encoding")
                transfer = transfer_header[0].strip() if transfer_header else None
                if item_type == FIELD:
                    self._field(name, field_stream, transfer)
                elif item_type == FILE:
                    files += 1
                    if files > (settings.DATA_UPLOAD_MAX_NUMBER_FILES or files):
                        raise TooManyFilesSent("Too many files")
                    self._file(name, disposition, meta, field_stream, transfer)
                else:
                    exhaust(field_stream)
        except BaseException:
            if self._pending is not None:
                for handler in self._upload_handlers:
                    handler.upload_interrupted()
            raise
        if self._pending is not None:
            for handler in self._upload_handlers:
                handler.upload_interrupted()
        exhaust(self._input_data)
        any(handler.upload_complete() for handler in self._upload_handlers)
        self._post._mutable = False
        return self._post, self._files

    def _field(self, name: str, field_stream: Any, transfer: str | None) -> None:
        if name.encode() not in _STREAMED_FIELDS or transfer == "base64":
            raw = field_stream.read(_FIELD_MAX + 1)
            if len(raw) > _FIELD_MAX:
                raise _too_big()
            if transfer == "base64":
                with contextlib.suppress(binascii.Error):
                    raw = base64.b64decode(raw)
            self._keep(name, raw)
            return
        held = b""
        sink: sources.Base64Sink | None = None
        try:
            for chunk in field_stream:
                if sink is not None:
                    sink.feed(chunk)
                    continue
                held += chunk
                if len(held) > _INLINE_SOURCE_MAX:
                    sink = sources.Base64Sink(max_bytes=self._limit)
                    sink.feed(held)
                    held = b""
            if sink is None:
                self._keep(name, held)
            else:
                self._files.appendlist(name, sink.finish())
        except BaseException:
            if sink is not None:
                sink.abort()
            raise

    def _keep(self, name: str, raw: bytes) -> None:
        self._kept += len(raw) + len(name) + 2
        if self._kept > _FIELDS_TOTAL_MAX:
            raise _too_big()
        value = force_str(raw, self._encoding, errors="replace")
        self._post.appendlist(name, value)
        if name == "key":
            self._limit = self._limits.upload_limit_for_key(value)
            for _, held in self._files.lists():
                if any((item.size or 0) > self._limit for item in held):
                    raise sources.too_big(self._limit)

    def _file(
        self, name: str, disposition: dict, meta: dict, field_stream: Any, transfer: str | None
    ) -> None:
        file_name = disposition.get("filename")
        if file_name:
            file_name = self.sanitize_file_name(
                force_str(file_name, self._encoding, errors="replace")
            )
        if not file_name:
            return
        content_type, content_type_extra = meta.get("content-type", ("", {}))
        try:
            content_length: int | None = int(meta.get("content-length")[0])
        except (IndexError, TypeError, ValueError):
            content_length = None
        handlers = self._upload_handlers
        counters = [0] * len(handlers)
        try:
            for handler in handlers:
                try:
                    handler.new_file(
                        name,
                        file_name,
                        content_type.strip(),
                        content_length,
                        content_type_extra.get("charset"),
                        content_type_extra,
                    )
                except StopFutureHandlers:
                    break
            remainder = b""
            received = 0
            for chunk in field_stream:
                if transfer == "base64":
                    stripped = remainder + b"".join(chunk.split())
                    aligned = len(stripped) // 4 * 4
                    remainder = stripped[aligned:]
                    if not aligned:
                        continue
                    try:
                        chunk = base64.b64decode(stripped[:aligned])
                    except binascii.Error as exc:
                        raise MultiPartParserError("Could not decode base64 data.") from exc
                received += len(chunk)
                if received > self._limit:
                    # Stop writing at the limit, not at the end of the part.
                    raise sources.too_big(self._limit)
                for index, handler in enumerate(handlers):
                    length = len(chunk)
                    chunk = handler.receive_data_chunk(chunk, counters[index])
                    counters[index] += length
                    if chunk is None:
                        break
            if remainder:
                raise MultiPartParserError("Could not decode base64 data.")
        except BaseException:
            for handler in handlers:
                handler.upload_interrupted()
            raise
        self._pending = (name, counters)


class StreamingMultiPartParser(parsers.MultiPartParser):
    """multipart/form-data under the view's upload limits (``parser_context["limits"]``);
    DRF's own parsing when the view gives none."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> parsers.DataAndFiles:
        context = parser_context or {}
        limits = context.get("limits")
        if limits is None:
            refuse_oversized_body(parser_context)
            return super().parse(stream, media_type, parser_context)
        request = context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        encoding = context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            parser = _BoundedMultiPartParser(
                meta, stream, request.upload_handlers, encoding, limits=limits
            )
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise exceptions.ParseError(f"Multipart form parse error - {exc}") from None
        return parsers.DataAndFiles(data, files)
