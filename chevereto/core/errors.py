"""The error shape every API answers with: Chevereto's
`{"status_code": N, "error": {"message": ..., "code": ...}, "status_txt": ...}`."""

from __future__ import annotations

import sys
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt


def error_body(*, status: int, message: str, code: int) -> dict[str, object]:
    try:
        status_txt = HTTPStatus(status).phrase
    except ValueError:
        status_txt = "Error"
    return {
        "status_code": status,
        "error": {"message": message, "code": code},
        "status_txt": status_txt,
    }


# A lost or refused database connection (a restart, a failover, too many clients) is
# temporary: the client is told to try again rather than shown a server error. The next
# request opens a new connection (CONN_HEALTH_CHECKS drops the broken one).
DATABASE_UNAVAILABLE = "The database is unavailable: nothing was saved, try again"


def unavailable_body(exc: BaseException) -> dict[str, object] | None:
    """The 503 error body for a database that cannot be reached; None for other errors."""
    if isinstance(exc, OperationalError | InterfaceError):
        return error_body(status=503, message=DATABASE_UNAVAILABLE, code=503)
    return None


@csrf_exempt  # an unknown path has no form to protect; a POST must still get the JSON 404
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Any path under /api/ that no API serves: Chevereto's shape, never an HTML page.

    It is a route (the last one under /api/ in the root URLconf) rather than a
    handler404, so it answers the same way whether DEBUG is on or off.
    """
    return JsonResponse(
        error_body(status=404, message=f"No API endpoint at {request.path}", code=404),
        status=404,
    )


# Paths whose clients read JSON: the APIs (API V1 also answers at /1/upload).
_API_PREFIXES = ("/api/", "/1/")
_UNAVAILABLE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Try again</title>"
    "<h1>The site is briefly unavailable</h1><p>Nothing was saved. Try again in a moment.</p>"
)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500, for errors outside any view's own handling (a middleware's
    query, say): a database that cannot be reached is a 503 to retry, not a 500; and under
    the APIs every error answers in the error shape, never an HTML page."""
    exc = sys.exc_info()[1]
    unavailable = unavailable_body(exc) if exc is not None else None
    api = request.path.startswith(_API_PREFIXES)
    if unavailable is not None:
        response: HttpResponse = (
            JsonResponse(unavailable, status=503)
            if api
            else HttpResponse(_UNAVAILABLE_PAGE, status=503, content_type="text/html")
        )
        response["Retry-After"] = "5"
        return response
    if api:
        return JsonResponse(
            error_body(status=500, message="Internal server error", code=500), status=500
        )
    return defaults.server_error(request)
