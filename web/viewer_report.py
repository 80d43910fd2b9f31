"""The "report this image" page, `/image/<id>/report`: a form anyone who can see the upload
may send (guests too, with the CSRF token). Reports land in the moderation queue
(moderation.reports): one open report per reporter per image, a few per hour per address.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import re_path
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from albums.selectors import viewer_from_request
from chevereto.core.encoding import encode_id
from moderation.models import Report
from moderation.reports import MESSAGE_MAX, ReportError, report_create
from uploads.files import variant_file
from uploads.models import Image
from uploads.selectors import image_get_by_encoded_id, image_viewer_path, image_visible_to

_STATUS = {"duplicate": 409, "rate_limited": 429, "invalid": 400}


def _reportable(request: HttpRequest, encoded: str) -> Image:
    image = image_get_by_encoded_id(encoded)
    if image is None or not image_visible_to(viewer=viewer_from_request(request), image=image):
        raise Http404("That upload does not exist or is not public")
    return image


def _page(
    request: HttpRequest,
    image: Image,
    *,
    values: dict[str, str],
    error: str = "",
    sent: bool = False,
    status: int = 200,
) -> HttpResponse:
    response = render(
        request,
        "web/viewer/report.html",
        {
            "image": image,
            "thumb": variant_file(image, "thumb"),
            "viewer_path": image_viewer_path(image),
            "encoded_id": encode_id(image.pk),
            "reasons": Report.Reason.choices,
            "values": values,
            "error": error,
            "sent": sent,
            "message_max": MESSAGE_MAX,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
def image_report_page(request: HttpRequest, encoded: str) -> HttpResponse:
    image = _reportable(request, encoded)
    if request.method == "GET":
        return _page(request, image, values={"reason": "", "message": ""})
    values = {
        "reason": request.POST.get("reason", ""),
        "message": request.POST.get("message", ""),
    }
    try:
        report_create(
            image=image,
            reporter=request.user if request.user.is_authenticated else None,
            ip=getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR"),
            reason=values["reason"],
            message=values["message"],
        )
    except ReportError as error:
        return _page(request, image, values=values, error=str(error), status=_STATUS[error.code])
    return _page(request, image, values=values, sent=True)


urlpatterns = [
    re_path(
        r"^image/(?P<encoded>[A-Za-z0-9]+)/report/?$",
        image_report_page,
        name="image-report",
    ),
]
