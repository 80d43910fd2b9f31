"""API V1.1: `/api/1/upload`, a drop-in for Chevereto, ImgBB and ShareX clients."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, renderers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import key_from_request
from accounts.services import InvalidApiKey, KeyIdentity, api_key_authenticate
from api_v1.payloads import chevereto_success, imgbb_success
from chevereto.core.encoding import InvalidEncodedId, decode_id
from chevereto.core.errors import error_body
from uploads import params, sources
from uploads.errors import CODE_EMPTY_SOURCE, CODE_INVALID, CODE_NO_KEY, UploadError, too_big
from uploads.params import ascii_int
from uploads.parsers import SafeJSONParser, StreamingFormParser, StreamingMultiPartParser
from uploads.policy import invalid_album
from uploads.selectors import image_viewer_path
from uploads.services import (
    UploadResult,
    image_upload,
    largest_upload_bytes,
    max_upload_bytes,
    upload_precheck,
)

log = logging.getLogger(__name__)
MB = 1024 * 1024
# Multipart boundaries and the other fields cost a little more than the file itself; base64
# costs 4/3 of it.
_BODY_SLACK = 256 * 1024


class PlainTextRenderer(renderers.BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return str(data).encode(self.charset)


def _error(exc: UploadError) -> Response:
    return Response(
        error_body(status=exc.status, message=exc.message, code=exc.code), status=exc.status
    )


class UploadView(APIView):
    """Upload one image or video. See /api-v1 for the parameters."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    parser_classes = [StreamingMultiPartParser, StreamingFormParser, SafeJSONParser]
    renderer_classes = [renderers.JSONRenderer, PlainTextRenderer]

    @extend_schema(
        operation_id="api_v1_upload",
        summary="Upload a file (API V1.1)",
        description=(
            "Chevereto API V1.1 and ImgBB compatible upload. `source` (or `image`) is a "
            "multipart file, a base64 string or an http(s) URL. The key goes in the "
            "`X-API-Key` header or the `key` parameter."
        ),
        parameters=[
            OpenApiParameter("key", str, description="API key (legacy; prefer X-API-Key)"),
            OpenApiParameter("source", str, description="Image URL or base64 (or a file by POST)"),
            OpenApiParameter("image", str, description="ImgBB-style alias of source"),
            OpenApiParameter("title", str),
            OpenApiParameter("name", str, description="ImgBB-style alias of title"),
            OpenApiParameter("description", str),
            OpenApiParameter("tags", str, description="Comma-separated tags"),
            OpenApiParameter(
                "album_id", str, description="Encoded album id, owned by the key's user"
            ),
            OpenApiParameter("category_id", int),
            OpenApiParameter("width", int, description="Resize to this width"),
            OpenApiParameter(
                "expiration", str, description="ISO-8601 duration (PT5M..P1Y) or seconds"
            ),
            OpenApiParameter("nsfw", int, enum=[0, 1]),
            OpenApiParameter("format", str, enum=["json", "txt", "redirect"]),
            OpenApiParameter("use_file_date", int, enum=[0, 1], description="Admins only"),
        ],
        request=None,
        responses={
            200: dict,
            400: dict,
            401: dict,
            403: dict,
            409: dict,
            413: dict,
            415: dict,
            429: dict,
        },
    )
    def post(self, request: Request) -> HttpResponse:
        return self._upload(request)

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        return self._upload(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, UploadError):
            return _error(exc)
        if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            return _error(UploadError(f"Invalid request body: {exc.detail}", code=CODE_INVALID))
        if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            return _error(UploadError("Request body too big", code=CODE_INVALID, status=413))
        if isinstance(exc, exceptions.MethodNotAllowed):
            return _error(UploadError("Method not allowed", code=CODE_INVALID, status=405))
        return super().handle_exception(exc)

    def get_parser_context(self, http_request: HttpRequest) -> dict[str, Any]:
        context = super().get_parser_context(http_request)
        # The streaming form parser asks it for the size limit as keys turn up in the body.
        self._keys = _KeyState(self)
        context["limits"] = self._keys
        return context

    # -- the request, step by step --------------------------------------------------------

    def _identify(self, raw: str | None) -> KeyIdentity:
        if not raw:
            raise UploadError("Missing API V1 key", code=CODE_NO_KEY, status=401)
        try:
            return api_key_authenticate(raw=raw)
        except InvalidApiKey:
            raise UploadError("Invalid API V1 key", code=CODE_NO_KEY, status=401) from None

    def _check_body_size(self, request: Request, identity: KeyIdentity | None) -> None:
        # Refuse an oversized body before reading it: nothing is parsed or written for it.
        length = ascii_int((request.META.get("CONTENT_LENGTH") or "0").strip()) or 0
        limit = max_upload_bytes(user=identity.user) if identity else largest_upload_bytes()
        if length > limit * 4 // 3 + _BODY_SLACK:
            raise too_big(limit)

    def _identity(self, request: Request, payload: Any) -> KeyIdentity:
        """Header or query key (read before the body), else the one the body carried."""
        if self._keys.identity is not None:
            return self._keys.identity
        form_key = payload.get("key") if hasattr(payload, "get") else None
        return self._identify(form_key if isinstance(form_key, str) else None)

    def _pick_source(self, request: Request, field: _Field) -> _Picked:
        for name in ("source", "image"):
            candidate = request.FILES.get(name) if request.method == "POST" else None
            if candidate is not None:
                return _Picked(candidate, imgbb=name == "image")
            got = field(name)
            if got is not None and got.strip():
                return _Picked(got.strip(), imgbb=name == "image")
        raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE, status=400)

    def _options(self, field: _Field) -> dict[str, Any]:
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

    def _open_source(
        self, request: Request, picked: _Picked, *, user: Any, ip: str | None
    ) -> sources.SourceFile:
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
            raise UploadError(
                "Base64 sources must be sent by POST", code=CODE_EMPTY_SOURCE, status=400
            )
        return sources.from_base64(sent, max_bytes=limit)

    def _render(
        self, request: Request, result: UploadResult, *, fmt: str, imgbb: bool
    ) -> HttpResponse:
        image = result.image
        if fmt == "txt":
            request.accepted_renderer = PlainTextRenderer()
            request.accepted_media_type = PlainTextRenderer.media_type
            return Response(
                request.build_absolute_uri("/" + image.path),
                content_type="text/plain; charset=utf-8",
            )
        if fmt == "redirect":
            return HttpResponseRedirect(image_viewer_path(image))
        build = imgbb_success if imgbb else chevereto_success
        return Response(build(image, request, delete_token=result.delete_token))

    def _upload(self, request: Request) -> HttpResponse:
        try:
            return self._upload_steps(request)
        finally:
            _close_streamed(request)

    def _upload_steps(self, request: Request) -> HttpResponse:
        header_key = key_from_request(request)
        if header_key:
            self._keys.identity = self._identify(header_key)
        self._check_body_size(request, self._keys.identity)
        payload = request.data if request.method == "POST" else request.query_params
        user = self._identity(request, payload).user
        field = _Field(payload, request.query_params)
        picked = self._pick_source(request, field)
        fmt = (field("format") or "json").strip().lower()
        if fmt not in {"json", "txt", "redirect"}:
            raise UploadError("Invalid format: json, txt or redirect", code=CODE_INVALID)
        options = self._options(field)
        ip = getattr(request._request, "client_ip", None) or request.META.get("REMOTE_ADDR")
        with self._open_source(request, picked, user=user, ip=ip) as source:
            result = image_upload(source=source, user=user, ip=ip, **options)
        return self._render(request, result, fmt=fmt, imgbb=picked.imgbb)


class _KeyState:
    """The key of one request, as far as it is known, for the streaming form parser."""

    def __init__(self, view: UploadView) -> None:
        self.view = view
        self.identity: KeyIdentity | None = None

    def initial_upload_limit(self) -> int:
        if self.identity is not None:
            return max_upload_bytes(user=self.identity.user)
        return largest_upload_bytes()

    def upload_limit_for_key(self, raw: str) -> int:
        # A header or query key wins over the body's, as when the body is read whole.
        if self.identity is None:
            self.identity = self.view._identify(raw.strip())
        return max_upload_bytes(user=self.identity.user)


class _Field:
    """A text parameter from the body, else the query string (files are not text)."""

    def __init__(self, *places: Any) -> None:
        self.places = places

    def __call__(self, *names: str) -> str | None:
        for name in names:
            for place in self.places:
                got = place.get(name) if hasattr(place, "get") else None
                if got is not None and not isinstance(got, UploadedFile | sources.SourceFile):
                    return str(got)
        return None


@dataclass(frozen=True)
class _Picked:
    sent: UploadedFile | sources.SourceFile | str
    imgbb: bool


def _close_streamed(request: Request) -> None:
    """Delete base64 the form parser decoded but no step took (a refused request)."""
    files = getattr(request, "_files", None)
    if not isinstance(files, MultiValueDict):
        return  # the body was never parsed
    for _, held in files.lists():
        for item in held:
            if isinstance(item, sources.SourceFile):
                item.close()
