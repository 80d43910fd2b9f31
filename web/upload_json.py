"""`POST /upload/json`: the upload page's endpoint, one file per request.

It takes exactly what API V1 and V4 take (`source`: a multipart file, a URL or base64; the
same option fields), read by the same code (`uploads.upload_request`, the streaming parsers)
and ingested by the same service, so the page refuses what the APIs refuse, with the same
Chevereto code and status. What differs: the caller is the browser session (a guest too, when
the site allows guest uploads), CSRF is checked for everyone, and the answer adds the links
and embed codes the page shows.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chevereto.core.encoding import encode_id
from chevereto.core.errors import error_body, unavailable_body
from uploads.errors import CODE_FORBIDDEN, CODE_INVALID, UploadError
from uploads.parsers import SafeJSONParser, StreamingFormParser, StreamingMultiPartParser
from uploads.policy import max_upload_bytes
from uploads.representation import image_representation
from uploads.services import image_upload
from uploads.upload_request import (
    Field,
    body_error,
    check_body_size,
    client_ip,
    close_streamed,
    open_source,
    pick_source,
    upload_options,
)
from web.embeds import image_codes


def session_uploader(user: Any) -> Any:
    """The uploader `image_upload` takes: the logged-in user, or None for a guest."""
    return user if user is not None and user.is_authenticated else None


def remember_upload(request: HttpRequest, encoded: str, delete_token: str | None) -> None:
    """Keep the delete token of a session's recent uploads: the no-JS result page shows the
    links again after its redirect, and a guest has no other way to find them."""
    recent = dict(request.session.get("recent_uploads", {}))
    recent[encoded] = delete_token or ""
    # The newest 20 are plenty for a page of results; the session stays small.
    request.session["recent_uploads"] = dict(list(recent.items())[-20:])


class _SessionLimits:
    """The streaming parsers' limits (`uploads.parsers.BodyLimits`): the session's own,
    a guest's for a guest. A `key` field in the body changes nothing here."""

    def __init__(self, user: Any) -> None:
        self.user = session_uploader(user)

    def initial_upload_limit(self) -> int:
        return max_upload_bytes(user=self.user)

    def upload_limit_for_key(self, raw: str) -> int:
        return self.initial_upload_limit()


class _SessionWithCsrfForAll(SessionAuthentication):
    """The session's user, with Django's CSRF check for guests too: DRF checks it only for
    logged-in users, and a guest upload forged from another site must fail as well.

    The check reads the token from the DRF request, so the body goes through the view's
    streaming parsers (with the site's largest limit, the caller not being known yet)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return (user, None)


def _error_response(exc: Exception, context: Any) -> Response | None:
    """Every refusal in Chevereto's error shape: upload errors with their code and status,
    bodies the parsers refused as 400/413, and DRF's own (CSRF: 403) with its status."""
    refused = exc if isinstance(exc, UploadError) else body_error(exc)
    if refused is not None:
        body = error_body(status=refused.status, message=refused.message, code=refused.code)
        return Response(body, status=refused.status)
    if isinstance(exc, exceptions.APIException):
        status = exc.status_code
        code = CODE_FORBIDDEN if status in (401, 403) else CODE_INVALID
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response(error_body(status=status, message=str(detail), code=code), status=status)
    unavailable = unavailable_body(exc)
    if unavailable is not None:
        return Response(unavailable, status=503, headers={"Retry-After": "5"})
    return None


class UploadJsonView(APIView):
    """One upload from the upload page; answers the image, its links and embed codes."""

    authentication_classes = [_SessionWithCsrfForAll]
    permission_classes: list[Any] = []
    parser_classes = [StreamingMultiPartParser, StreamingFormParser, SafeJSONParser]

    def get_parser_context(self, http_request: HttpRequest) -> dict[str, Any]:
        context = super().get_parser_context(http_request)
        # The session's user is known before DRF authenticates (the CSRF check parses the
        # body while authenticating): the body streams under the caller's own limit.
        context["limits"] = _SessionLimits(getattr(http_request, "user", None))
        return context

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before the CSRF check reads the body: an oversized one is refused unread.
        user = session_uploader(getattr(request._request, "user", None))
        check_body_size(request, limit=max_upload_bytes(user=user))
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self) -> Any:
        return _error_response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Also after a refusal before `post` ran: base64 decoded to disk and taken by no
        # step is deleted.
        close_streamed(request)
        return super().finalize_response(request, response, *args, **kwargs)

    # A page's endpoint, not part of the APIs: left out of their OpenAPI schema.
    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        user = session_uploader(request.user)
        field = Field(request.data, request.query_params, strict_types=True)
        picked = pick_source(request, field)
        options = upload_options(field)
        ip = client_ip(request)
        with open_source(request, picked, user=user, ip=ip) as source:
            result = image_upload(source=source, user=user, ip=ip, **options)
        image, token = result.image, result.delete_token
        remember_upload(request._request, encode_id(image.pk), token)
        codes = image_codes(image, request._request, delete_token=token)
        return Response(
            {
                "image": image_representation(image, request, delete_token=token),
                "codes": [code.as_dict() for code in codes],
            }
        )


upload_json = UploadJsonView.as_view()
