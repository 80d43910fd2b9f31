"""One error shape for every API: Chevereto's `{status_code, error{message, code}, status_txt}`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from chevereto.core.errors import error_body, unavailable_body


def _message(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_message(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def query_refused(exc: Exception, request: Any) -> bool:
    """Whether `exc` is Django refusing the query string, not the body: it raises the same
    TooManyFieldsSent for both when they have more fields than it reads."""
    if not isinstance(exc, TooManyFieldsSent) or request is None:
        return False
    query = request.META.get("QUERY_STRING", "")
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return bool(query) and limit is not None and query.count("&") + 1 > limit


def _refused_by_django(exc: Exception, request: Any) -> Response | None:
    """Django's own limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS and
    _FILES) raise a SuspiciousOperation that DRF leaves alone, which Django would answer
    with its HTML 400 page: here a 400 for the query string, else a 413 for the body."""
    if not isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return None
    if query_refused(exc, request):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        message = f"Too many query parameters: at most {limit}."
        return Response(error_body(status=400, message=message, code=400), status=400)
    body = error_body(status=413, message="Request body too big", code=413)
    return Response(body, status=413)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        refused = _refused_by_django(exc, context.get("request"))
        if refused is not None:
            return refused
        unavailable = unavailable_body(exc)
        if unavailable is None:
            return None
        set_rollback()
        return Response(unavailable, status=503, headers={"Retry-After": "5"})
    status = response.status_code
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        code = 100  # Chevereto's "invalid API key"
    else:
        code = status
    detail = exc.detail if isinstance(exc, exceptions.APIException) else HTTPStatus(status).phrase
    body = error_body(status=status, message=_message(detail), code=code)
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        body["error"]["fields"] = exc.detail  # type: ignore[index]
    response.data = body
    return response


class JsonErrorsMixin:
    """Errors of a view whose renderers are not JSON (the schema's YAML, the docs' HTML)
    still answer in the JSON error shape: an API client reads one format for every error."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        request = self.request  # type: ignore[attr-defined]
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
        return response
