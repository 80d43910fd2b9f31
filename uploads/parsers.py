"""Request-body parsers shared by API V1 and API V4.

`SafeJSONParser`: DRF's JSONParser lets a deeply nested body (``[[[[...]]]]`` 100,000
deep) reach Python's recursion limit: a RecursionError, which DRF does not turn into a 400.
This one does.
`StreamingFormParser`: an urlencoded upload body is read in chunks, never held whole.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions, parsers

from uploads import sources


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
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
