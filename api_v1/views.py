"""API V1.1: `/api/1/upload`, a drop-in for Chevereto, ImgBB and ShareX clients."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, parsers, renderers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import key_from_request
from accounts.services import InvalidApiKey, KeyIdentity, api_key_authenticate
from api_v1.payloads import chevereto_success, imgbb_success
from chevereto.core.encoding import InvalidEncodedId, decode_id
from chevereto.core.errors import error_body
from uploads import params, sources
from uploads.errors import CODE_EMPTY_SOURCE, CODE_INVALID, CODE_NO_KEY, UploadError
from uploads.selectors import image_viewer_path
from uploads.services import image_upload, largest_upload_bytes, max_upload_bytes, upload_precheck

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
    parser_classes = [parsers.MultiPartParser, parsers.FormParser, parsers.JSONParser]
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
        if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
            return _error(UploadError("Request body too big", code=CODE_INVALID, status=413))
        if isinstance(exc, exceptions.MethodNotAllowed):
            return _error(UploadError("Method not allowed", code=CODE_INVALID, status=405))
        return super().handle_exception(exc)

    # -- the request, step by step --------------------------------------------------------

    def _identify(self, raw: str | None) -> KeyIdentity:
        if not raw:
            raise UploadError("Missing API V1 key", code=CODE_NO_KEY, status=401)
        try:
            return api_key_authenticate(raw=raw)
        except InvalidApiKey:
            raise UploadError("Invalid API V1 key", code=CODE_NO_KEY, status=401) from None

    def _check_body_size(self, request: Request, identity: KeyIdentity | None) -> None:
        # Refuse an oversized body before reading it: nothing is written for it.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_upload_bytes(user=identity.user) if identity else largest_upload_bytes()
        if length > limit * 4 // 3 + _BODY_SLACK:
            raise sources.too_big(limit)

    def _upload(self, request: Request) -> HttpResponse:
        header_key = key_from_request(request)
        identity = self._identify(header_key) if header_key else None
        self._check_body_size(request, identity)
        data = request.data if request.method == "POST" else request.query_params
        if identity is None:
            form_key = data.get("key") if hasattr(data, "get") else None
            identity = self._identify(form_key if isinstance(form_key, str) else None)
        user = identity.user

        def value(*names: str) -> str | None:
            for name in names:
                for source in (data, request.query_params):
                    got = source.get(name) if hasattr(source, "get") else None
                    if got is not None and not isinstance(got, UploadedFile):
                        return str(got)
            return None

        imgbb = False
        upload: UploadedFile | None = None
        text: str | None = None
        for name in ("source", "image"):
            candidate = request.FILES.get(name) if request.method == "POST" else None
            if candidate is not None:
                upload, imgbb = candidate, name == "image"
                break
            got = value(name)
            if got is not None and got.strip():
                text, imgbb = got.strip(), name == "image"
                break
        if upload is None and text is None:
            raise UploadError("Empty upload source", code=CODE_EMPTY_SOURCE, status=400)

        fmt = (value("format") or "json").strip().lower()
        if fmt not in {"json", "txt", "redirect"}:
            raise UploadError("Invalid format: json, txt or redirect", code=CODE_INVALID)
        album_raw = value("album_id")
        album_id: int | None = None
        if album_raw:
            try:
                album_id = decode_id(album_raw.strip())
            except InvalidEncodedId:
                raise UploadError(
                    "Invalid album: it is not yours", code=CODE_INVALID, status=403
                ) from None
        options = {
            "title": params.parse_title(value("title", "name")),
            "description": params.parse_description(value("description")),
            "tags": params.parse_tags(value("tags")),
            "album_id": album_id,
            "category_id": params.parse_int_id(value("category_id"), name="category_id"),
            "width": params.parse_width(value("width")),
            "nsfw": params.parse_flag(value("nsfw"), name="nsfw"),
            "expires_at": params.parse_expiration(value("expiration"), now=timezone.now()),
            "use_file_date": params.parse_flag(value("use_file_date"), name="use_file_date"),
        }

        ip = getattr(request._request, "client_ip", None) or request.META.get("REMOTE_ADDR")
        is_url = text is not None and sources.looks_like_url(text)
        upload_precheck(user=user, ip=ip, from_url=is_url)
        limit = max_upload_bytes(user=user)
        if upload is not None:
            source = sources.from_uploaded_file(upload, max_bytes=limit)
        elif is_url:
            source = sources.from_url(text, max_bytes=limit)  # type: ignore[arg-type]
        elif request.method == "GET":
            raise UploadError(
                "Base64 sources must be sent by POST", code=CODE_EMPTY_SOURCE, status=400
            )
        else:
            source = sources.from_base64(text, max_bytes=limit)  # type: ignore[arg-type]
        with source:
            result = image_upload(source=source, user=user, ip=ip, prechecked=True, **options)

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
