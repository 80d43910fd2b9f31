"""The error shape every API answers with: Chevereto's
`{"status_code": N, "error": {"message": ..., "code": ...}, "status_txt": ...}`."""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpRequest, JsonResponse
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
