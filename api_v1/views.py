"""API V1.1: `/api/1/upload`, a drop-in for Chevereto, ImgBB and ShareX clients."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, renderers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import api_key_identify, key_from_request
from accounts.services import InvalidApiKey, KeyIdentity
from accounts.throttle import KeysLockedOut
from api_v1.payloads import chevereto_success, imgbb_success
from chevereto.core.errors import error_body
from uploads.errors import CODE_INVALID, CODE_NO_KEY, UploadError
from uploads.parsers import SafeJSONParser, StreamingFormParser, StreamingMultiPartParser
from uploads.selectors import image_viewer_path
from uploads.services import (
    UploadResult,
    image_upload,
    largest_upload_bytes,
    max_upload_bytes,
)
from uploads.upload_request import (
    Field,
    body_error,
    check_body_size,
    client_ip,
    close_streamed,
    open_source,
    pick_source,
    upload_body_schema,
    upload_options,
)

log = logging.getLogger(__name__)


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


# What API V1's body takes besides the upload itself.
_V1_EXTRA = {
    "key": {"type": "string", "description": "API key (legacy; prefer X-API-Key)"},
    "format": {"type": "string", "enum": ["json", "txt", "redirect"], "default": "json"},
}


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
        ],
        # The body of every POST client (Chevereto's, ImgBB's, ShareX): "`source` or
        # `image` is required" is a rule of this schema. (V1.1 also takes the same
        # parameters in the query string of a GET, which the schema leaves out.)
        request={
            "multipart/form-data": upload_body_schema(files=True, extra=_V1_EXTRA),
            "application/x-www-form-urlencoded": upload_body_schema(files=False, extra=_V1_EXTRA),
            "application/json": upload_body_schema(files=False, extra=_V1_EXTRA),
        },
        responses={
            200: dict,
            400: dict,
            401: dict,
            403: dict,
            409: dict,
            413: dict,
            415: dict,
            429: dict,
            503: dict,  # the database or the storage is unavailable: retry
            507: dict,  # the storage is full
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
        if isinstance(exc, KeysLockedOut):
            # Code 429 like the status, as API V4 answers it (README "Throttling").
            return Response(
                error_body(status=429, message=exc.message, code=429),
                status=429,
                headers={"Retry-After": str(exc.lockout.retry_after)},
            )
        refused = body_error(exc)
        if refused is not None:
            return _error(refused)
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
            return api_key_identify(request=self.request, raw=raw)
        except InvalidApiKey:
            raise UploadError("Invalid API V1 key", code=CODE_NO_KEY, status=401) from None

    def _check_body_size(self, request: Request, identity: KeyIdentity | None) -> None:
        limit = max_upload_bytes(user=identity.user) if identity else largest_upload_bytes()
        check_body_size(request, limit=limit)

    def _identity(self, request: Request, payload: Any) -> KeyIdentity:
        """Header or query key (read before the body), else the one the body carried."""
        if self._keys.identity is not None:
            return self._keys.identity
        form_key = payload.get("key") if hasattr(payload, "get") else None
        return self._identify(form_key if isinstance(form_key, str) else None)

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
            close_streamed(request)

    def _upload_steps(self, request: Request) -> HttpResponse:
        header_key = key_from_request(request)
        if header_key:
            self._keys.identity = self._identify(header_key)
        self._check_body_size(request, self._keys.identity)
        payload = request.data if request.method == "POST" else request.query_params
        user = self._identity(request, payload).user
        field = Field(payload, request.query_params)
        picked = pick_source(request, field)
        fmt = (field("format") or "json").strip().lower()
        if fmt not in {"json", "txt", "redirect"}:
            raise UploadError("Invalid format: json, txt or redirect", code=CODE_INVALID)
        options = upload_options(field)
        ip = client_ip(request)
        with open_source(request, picked, user=user, ip=ip) as source:
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
