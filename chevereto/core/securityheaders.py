"""Security headers on every response: Content-Security-Policy and Permissions-Policy.

Django's SecurityMiddleware already sends nosniff, Referrer-Policy, HSTS (over https only)
and Cross-Origin-Opener-Policy; this middleware adds what Django 5.2 lacks. It sits just
below SecurityMiddleware, above WhiteNoise, so static files, error pages, the dashboard and
both APIs all pass through it.

Two policies:
- pages (and every other response): scripts and styles only from this site's own files, or
  an element carrying the request's nonce (`request.csp_nonce`); no inline script, no
  `eval`, no plugins, no `<base>`, forms post only here, and never framed by anyone
  (`frame-ancestors 'none'`). Pictures and videos may come from https anywhere, because
  uploads can live on an S3 bucket or a CDN named in the dashboard at any time.
- uploaded files (MEDIA_CSP, set by the file views): nothing may run or load, the document
  is sandboxed (videos keep their origin, so the browser's own player can load them), and
  there is no frame-ancestors: the files are the site's embeds, meant to
  be hotlinked and framed anywhere (oEmbed hands out `<img>`/`<video>` of them).
A response that already carries a Content-Security-Policy keeps it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from chevereto.core.formats import FORMAT_BY_MIME, FORMATS

CSP = "Content-Security-Policy"

# The files users upload are shown by the browser as images or videos; anything else is
# offered as a download. Nothing stored is ever rendered as a document that could script.
MEDIA_CSP = (
    "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; sandbox"
)
# A video opened on its own is played by a <video crossorigin> element the browser makes:
# in a fully sandboxed (opaque-origin) document that request fails CORS and nothing plays.
# Keeping the origin is safe here, because nothing may run: no allow-scripts, no script-src.
MEDIA_CSP_VIDEO = MEDIA_CSP + " allow-same-origin"
# Every type the site stores (chevereto/core/formats.py), HEIC's other name included.
INLINE_TYPES = frozenset({f.mime for f in FORMATS.values()} | set(FORMAT_BY_MIME))

# Powerful features no page of the site uses. Fullscreen (videos) and clipboard writes
# (copy buttons) keep their default, this site only.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)


def _safe_filename(name: str) -> str:
    """A file name fit for a quoted header value: stored names are `[.\\w-]` already, this
    keeps anything else (an imported name) from breaking out of the quotes."""
    cleaned = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-"))
    return cleaned or "file"


def media_disposition(mime: str, filename: str) -> str:
    """`inline` for the images and videos browsers render safely, else `attachment`."""
    kind = "inline" if mime in INLINE_TYPES else "attachment"
    return f'{kind}; filename="{_safe_filename(filename)}"'


def media_content_type(mime: str) -> str:
    """The type to serve a stored file as: the recorded one when it is a media type we
    know, else opaque bytes (never text/html, whatever a row says)."""
    return mime if mime in INLINE_TYPES else "application/octet-stream"


def media_headers(response: HttpResponse, *, mime: str, filename: str) -> None:
    """The headers of an uploaded file served by the site (see MEDIA_CSP)."""
    if response.status_code != 304:  # a 304 has no body, hence no type
        response["Content-Type"] = media_content_type(mime)
    response["Content-Disposition"] = media_disposition(mime, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response[CSP] = MEDIA_CSP_VIDEO if mime.startswith("video/") else MEDIA_CSP
    # Embeds: framing a file is allowed (no X-Frame-Options DENY from Django's middleware).
    response.xframe_options_exempt = True  # type: ignore[attr-defined]


def media_object_parameters(*, mime: str, filename: str) -> dict[str, str]:
    """Metadata an S3 object is written with, so the bucket serves it with its real type
    (from the upload's row, not guessed from the name) and the same disposition."""
    return {
        "ContentType": media_content_type(mime),
        "ContentDisposition": media_disposition(mime, filename),
    }


def _sources(*extra: str) -> str:
    return " ".join(dict.fromkeys(s for s in extra if s))


@lru_cache(maxsize=8)
def _page_policy_template(media_sources: tuple[str, ...]) -> str:
    media = _sources(*media_sources)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'nonce-{nonce}'",
            f"img-src 'self' data: blob: {media}",
            f"media-src 'self' blob: {media}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def page_policy(nonce: str) -> str:
    """The Content-Security-Policy of pages (and every non-file response) for one nonce."""
    media = tuple(getattr(settings, "CSP_MEDIA_SOURCES", ["https:"]))
    return _page_policy_template(media).replace("{nonce}", nonce)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A fresh nonce per request: templates write `nonce="{{ request.csp_nonce }}"` on
        # the rare element that must be inline (third-party pages such as the API docs).
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if CSP not in response:
            response[CSP] = page_policy(nonce)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response
