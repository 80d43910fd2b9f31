"""One error shape for every API: Chevereto's `{status_code, error{message, code}, status_txt}`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
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
