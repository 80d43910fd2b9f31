"""Refuse every request from a banned address before any other work.

It runs right after ClientIPMiddleware (the address comes from trusted proxies only) and
before sessions, authentication, CSRF and every view: a banned client costs one lookup in
the cached live bans and never touches a session row or a key. Static files are served by
WhiteNoise further up and stay reachable (the ban page needs its stylesheet).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone

from chevereto.core.bans import ip_ban_for
from chevereto.core.errors import error_body
from chevereto.core.models import IpBan, SiteSettings

# Chevereto's words for a banned visitor; the ban's own message, if any, follows them.
BANNED_MESSAGE = "You have been forbidden to use this website."
# API V1 answers Chevereto's error code for it; API V4 its HTTP status.
BANNED_CODE = 403

_API_PREFIXES = ("/api/", "/1/upload")


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith(_API_PREFIXES)


def banned_response(request: HttpRequest, ban: IpBan) -> HttpResponse:
    message = f"{BANNED_MESSAGE} {ban.message}".strip() if ban.message else BANNED_MESSAGE
    if _is_api(request.path_info):
        return JsonResponse(error_body(status=403, message=message, code=BANNED_CODE), status=403)
    expires_at = timezone.localtime(ban.expires_at) if ban.expires_at else None
    html = render_to_string(
        "403_banned.html",
        {
            "site_name": SiteSettings.load().site_name,
            "message": ban.message,
            "expires_at": expires_at,
        },
    )
    response = HttpResponse(html, status=403)
    # A ban may be lifted or expire: no cache should keep serving this page.
    response["Cache-Control"] = "no-store"
    return response


class BanMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
        ban = ip_ban_for(address)
        if ban is not None:
            return banned_response(request, ban)
        return self.get_response(request)
