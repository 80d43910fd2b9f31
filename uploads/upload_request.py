"""From an HTTP request to the arguments of `uploads.services.image_upload`.

API V1 (`/api/1/upload`) and API V4 (`POST /api/4/user/images/`) take the same parameters
and must refuse the same input the same way, so both read their requests here: which field
holds the source, what the options parse to, how the source becomes a local file, and the
size checks that run before the body costs anything. The APIs keep only what differs
between them: how the caller is identified and the shape of the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions

from chevereto.core.encoding import InvalidEncodedId, decode_id
from chevereto.core.slowclients import RequestBodyTimeout
from uploads import params, sources
from uploads.errors import CODE_EMPTY_SOURCE, CODE_INVALID, UploadError, too_big
from uploads.params import (
    MAX_DESCRIPTION,
    MAX_EXPIRATION_SECONDS,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE,
    ascii_int,
)
from uploads.policy import invalid_album, largest_upload_bytes, max_upload_bytes, upload_precheck

# Multipart boundaries and the other fields cost a little more than the file itself; base64
# costs 4/3 of it.
BODY_SLACK = 256 * 1024

# Every parameter an upload takes besides the source (the key is the API's business).
OPTION_FIELDS = frozenset(
    {
        "title",
        "name",
        "description",
        "tags",
        "album_id",
        "category_id",
        "width",
        "expiration",
        "nsfw",
        "use_file_date",
    }
)
SOURCE_FIELDS = ("source", "image")


class Field:
    """A text parameter from the body, else the query string (files are not text).

    With `strict_types`, a JSON object or list where text is expected is refused (API V4
    answers wrong types with a 400); API V1 keeps reading any value as its text.
    """

    def __init__(self, *places: Any, strict_types: bool = False) -> None:
        self.places = places
        self.strict_types = strict_types

    def __call__(self, *names: str) -> str | None:
        for name in names:
            for place in self.places:
                got = place.get(name) if hasattr(place, "get") else None
                if got is None or isinstance(got, UploadedFile | sources.SourceFile):
                    continue
                if self.strict_types and isinstance(got, dict | list):
                    raise UploadError(f"Invalid {name}: text expected", code=CODE_INVALID)
                return str(got)
        return None


@dataclass(frozen=True)
class Picked:
    """The source the client sent, and whether it came as ImgBB's `image` field."""

    sent: UploadedFile | sources.SourceFile | str
    imgbb: bool


def pick_source(request: Any, field: Field) -> Picked:
    """`source`, else `image`: a multipart file (POST only), or a base64 or URL string."""
    for name in SOURCE_FIELDS:
        candidate = request.FILES.get(name) if request.method == "POST" else None
        if candidate is not None:
            return Picked(candidate, imgbb=name == "image")
        got = field(name)
        if got is not None and got.strip():
            return Picked(got.strip(), imgbb=name == "image")
    raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE, status=400)


def upload_options(field: Field) -> dict[str, Any]:
    """Every option of an upload, parsed: the keyword arguments of `image_upload`."""
    album_raw = field("album_id")
    album_id: int | None = None
    if album_raw:
        try:
            album_id = decode_id(album_raw.strip())
        except InvalidEncodedId:
            raise invalid_album() from None
    return {
        "title": params.parse_title(field("title", "name")),
        "description": params.parse_description(field("description")),
        "tags": params.parse_tags(field("tags")),
        "album_id": album_id,
        "category_id": params.parse_int_id(field("category_id"), name="category_id"),
        "width": params.parse_width(field("width")),
        "nsfw": params.parse_flag(field("nsfw"), name="nsfw"),
        "expires_at": params.parse_expiration(field("expiration"), now=timezone.now()),
        "use_file_date": params.parse_flag(field("use_file_date"), name="use_file_date"),
    }


def check_body_size(request: Any, *, limit: int) -> None:
    """Refuse an oversized body before reading it: nothing is parsed or written for it."""
    length = ascii_int((request.META.get("CONTENT_LENGTH") or "0").strip()) or 0
    if length > limit * 4 // 3 + BODY_SLACK:
        raise too_big(limit)


def client_ip(request: Any) -> str | None:
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "client_ip", None) or request.META.get("REMOTE_ADDR")


def open_source(request: Any, picked: Picked, *, user: Any, ip: str | None) -> sources.SourceFile:
    """The upload's bytes as a local file, after the checks that need none of them."""
    sent = picked.sent
    if isinstance(sent, sources.SourceFile):
        origin = sent.origin
    elif isinstance(sent, UploadedFile):
        origin = sources.Origin.FILE
    elif sources.looks_like_url(sent):
        origin = sources.Origin.URL
    else:
        origin = sources.Origin.BASE64
    # An early answer: no URL is fetched, no body decoded, for a request refused anyway.
    upload_precheck(user=user, ip=ip, origin=origin)
    limit = max_upload_bytes(user=user)
    if isinstance(sent, sources.SourceFile):
        return sent
    if isinstance(sent, UploadedFile):
        return sources.from_uploaded_file(sent, max_bytes=limit)
    if origin == sources.Origin.URL:
        return sources.from_url(sent, max_bytes=limit)
    if request.method == "GET":
        raise UploadError("Base64 sources must be sent by POST", code=CODE_EMPTY_SOURCE, status=400)
    return sources.from_base64(sent, max_bytes=limit)


def body_error(exc: Exception) -> UploadError | None:
    """A body the parsers refused, as the upload error both APIs answer with (else None)."""
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return UploadError(f"Invalid request body: {exc.detail}", code=CODE_INVALID)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return UploadError("Request body too big", code=CODE_INVALID, status=413)
    if isinstance(exc, RequestBodyTimeout):
        return UploadError(str(exc), code=408, status=408)
    return None


class UserLimits:
    """The streaming parsers' size limits (`uploads.parsers.BodyLimits`) for API V4, which
    authenticates from the header or the session, never from a `key` inside the body.

    `user_of` answers the caller once authentication is done, else None: the session's CSRF
    check reads the form *while* authenticating, and then only the largest limit of the
    site bounds the body (the upload is checked against the caller's own limit later)."""

    def __init__(self, user_of: Callable[[], Any]) -> None:
        self.user_of = user_of

    def initial_upload_limit(self) -> int:
        user = self.user_of()
        if user is None or not getattr(user, "is_authenticated", False):
            return largest_upload_bytes()
        return max_upload_bytes(user=user)

    def upload_limit_for_key(self, raw: str) -> int:
        return self.initial_upload_limit()


def close_streamed(request: Any) -> None:
    """Delete base64 the form parser decoded but no step took (a refused request)."""
    files = getattr(request, "_files", None)
    if not isinstance(files, MultiValueDict):
        return  # the body was never parsed
    for _, held in files.lists():
        for item in held:
            if isinstance(item, sources.SourceFile):
                item.close()


# --- The upload body as the API schemas describe it -------------------------------------
# A flag as the upload takes it: JSON true/false, 0/1, or the text of either.
FLAG_SCHEMA = {
    "oneOf": [
        {"type": "boolean"},
        {"type": "integer", "enum": [0, 1]},
        {"type": "string", "enum": ["0", "1", "true", "false"]},
    ]
}
# Seconds as a JSON number: 0 (never), or 60 up to the one-year ceiling.
SECONDS_SCHEMAS = [
    {"type": "integer", "enum": [0]},
    {"type": "integer", "minimum": 60, "maximum": MAX_EXPIRATION_SECONDS},
]
# At most MAX_TAGS tags of at most MAX_TAG_LENGTH characters, comma-separated.
TAGS_TEXT_PATTERN = (
    rf"^[^,]{{0,{MAX_TAG_LENGTH}}}(,[^,]{{0,{MAX_TAG_LENGTH}}}){{0,{MAX_TAGS - 1}}}$"
)


def source_body_schema(*, files: bool, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A body carrying a file to ingest, with "`source` or `image` is required" stated as a
    rule of the schema (a serializer cannot say "one of these two"); `extra` adds fields."""
    source: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "description": "A base64 string (raw or a data: URI) or an http(s) URL"
        + (", or a file" if files else ""),
    }
    if files:
        source = {"oneOf": [{"type": "string", "format": "binary"}, source]}
    return {
        "type": "object",
        "description": "`source` or `image` is required.",
        "properties": {
            "source": source,
            "image": {**source, "description": "ImgBB's name of `source`"},
            **(extra or {}),
        },
        "anyOf": [{"required": ["source"]}, {"required": ["image"]}],
    }


def upload_body_schema(*, files: bool, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """API V1's upload parameters (the body of both APIs' uploads)."""
    flag = FLAG_SCHEMA
    text: dict[str, Any] = {"type": "string"}
    return source_body_schema(
        files=files,
        extra={
            "title": {**text, "maxLength": MAX_TITLE},
            "name": {**text, "maxLength": MAX_TITLE, "description": "ImgBB's name of `title`"},
            "description": {**text, "maxLength": MAX_DESCRIPTION},
            "tags": {**text, "pattern": TAGS_TEXT_PATTERN, "description": "Comma-separated tags"},
            "album_id": {**text, "description": "One of your albums (encoded id)"},
            "category_id": {"type": "integer", "minimum": 1},
            "width": {"type": "integer", "minimum": 1, "maximum": 100_000},
            "expiration": {
                "oneOf": [text, *SECONDS_SCHEMAS],
                "description": "An ISO-8601 duration (PT5M to P1Y) or seconds "
                f"(60 to {MAX_EXPIRATION_SECONDS}); 0: never",
            },
            "nsfw": flag,
            "use_file_date": {**flag, "description": "Admins only"},
            **(extra or {}),
        },
    )
