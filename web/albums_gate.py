"""The password gate of a password album: Chevereto's form, shared by every page behind it.

Chevereto answers a locked album with a page saying "Password required" and a POST form
whose password field is `content-password`, its CSRF token sent as `auth_token`; clients
and browser extensions written for Chevereto post exactly those names (DESIGN §8).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from albums.models import Album
from albums.services import album_unlock

PASSWORD_FIELD = "content-password"
CSRF_FIELD = "auth_token"
WRONG_PASSWORD = "Invalid password"


def csrf_rejection(request: HttpRequest) -> HttpResponse | None:
    """Django's own CSRF check, for a form that sends its token as `auth_token`.

    CsrfViewMiddleware reads only `csrfmiddlewaretoken` (or the X-CSRFToken header), so the
    view is exempt from the middleware and runs the same check here, with the form's token
    passed as the header: origin, referer (HTTPS) and cookie checks all still apply.
    """
    token = request.POST.get(CSRF_FIELD, "")
    if token:
        request.META[settings.CSRF_HEADER_NAME] = token

    def _protected(_request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
        return HttpResponse()

    middleware = CsrfViewMiddleware(_protected)
    return middleware.process_view(request, _protected, (), {})


def password_page(
    request: HttpRequest, album: Album, *, error: str = "", status: int = 200
) -> HttpResponse:
    """The gate. It never names the album: a locked album's name is not for strangers."""
    response = render(
        request,
        "albums/password.html",
        {"album": album, "error": error, "password_field": PASSWORD_FIELD},
        status=status,
    )
    add_never_cache_headers(response)  # it depends on the session: no cache may keep it
    return response


def unlock(request: HttpRequest, album: Album, *, then: str) -> HttpResponse:
    """Check the posted password: the gate again with 403 when wrong, else 303 to `then`."""
    rejected = csrf_rejection(request)
    if rejected is not None:
        return rejected
    password = request.POST.get(PASSWORD_FIELD, "")
    if not album_unlock(session=request.session, album=album, password=password):
        return password_page(request, album, error=WRONG_PASSWORD, status=403)
    # Post/redirect/get: a reload does not post the password again.
    return HttpResponseRedirect(then, status=303)
