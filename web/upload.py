"""The upload page (on top of the home page for those who may upload) and its endpoints.

- `/` (home): the upload widget for those who may upload, and the recent uploads as a
  guest sees them, whoever asks (a page meant for showing around never lists private or
  moderated items, not even to their owner or staff);
- `/upload`: the widget alone. With JavaScript (static/js/upload.js) each file goes to
  `POST /upload/json` (web.upload_json) with a progress bar; without, the form posts here,
  uploads the first file or URL, and redirects to `/upload/done/{id}` with its links;
- `POST /upload/album`: a new album from inside the widget.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from albums.selectors import GUEST
from albums.services import AlbumError, album_create
from chevereto.core.encoding import encode_id
from uploads.errors import UploadError
from uploads.policy import max_upload_bytes
from uploads.selectors import image_get_by_encoded_id, images_visible_to
from uploads.services import image_upload
from uploads.upload_request import (
    Field,
    body_error,
    check_body_size,
    client_ip,
    open_source,
    pick_source,
    upload_options,
)
from web.cards import IMAGE_RELATED, image_cards, viewer_shows_nsfw
from web.embeds import image_codes
from web.upload_json import remember_upload, session_uploader, upload_json
from web.upload_widget import may_upload, widget_context

HOME_ITEMS = 24
# The no-JS form's fields (its URL box is `urls`, one per line; the first one is taken).
_OPTION_NAMES = ("title", "description", "album_id", "category_id", "tags", "nsfw", "expiration")


def home(request: HttpRequest) -> HttpResponse:
    recent = (
        images_visible_to(viewer=GUEST)
        .select_related(*IMAGE_RELATED)
        .order_by("-created_at", "-id")[:HOME_ITEMS]
    )
    context: dict[str, Any] = {
        "cards": image_cards(recent, show_nsfw=viewer_shows_nsfw(request.user)),
        "can_upload": may_upload(request),
    }
    if context["can_upload"]:
        context.update(widget_context(request))
    return render(request, "web/upload/home.html", context)


def _csrf_rejection(request: HttpRequest) -> HttpResponse | None:
    """Django's CSRF check, run by the view after the size check: the middleware would read
    (and store) the whole body before the view could refuse an oversized one."""

    def _protected(_request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
        return HttpResponse()

    middleware = CsrfViewMiddleware(_protected)
    middleware.process_request(request)
    return middleware.process_view(request, _protected, (), {})


def _form_values(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in (*_OPTION_NAMES, "urls")}


def _upload_from_form(request: HttpRequest) -> HttpResponse:
    """The no-JS upload: the form's first file, else its first URL; options as the JSON
    endpoint takes them. Refused: the form again with the reason and the error's status."""
    user = session_uploader(request.user)
    try:
        check_body_size(request, limit=max_upload_bytes(user=user))
        rejected = _csrf_rejection(request)
        if rejected is not None:
            return rejected
        urls = [line.strip() for line in request.POST.get("urls", "").splitlines()]
        data = {name: request.POST.get(name) for name in _OPTION_NAMES}
        data["source"] = next((url for url in urls if url), None)
        field = Field({k: v for k, v in data.items() if v is not None})
        picked = pick_source(request, field)
        options = upload_options(field)
        ip = client_ip(request)
        with open_source(request, picked, user=user, ip=ip) as source:
            result = image_upload(source=source, user=user, ip=ip, **options)
    except Exception as exc:
        refused = exc if isinstance(exc, UploadError) else body_error(exc)
        if refused is None:
            raise
        context = widget_context(request, **_form_values(request))
        context["error"] = refused.message
        return render(request, "web/upload/upload.html", context, status=refused.status)
    encoded = encode_id(result.image.pk)
    remember_upload(request, encoded, result.delete_token)
    return HttpResponseRedirect(reverse("upload-done", args=[encoded]), status=303)


@csrf_exempt  # checked by `_upload_from_form` itself, after the size check
@require_http_methods(["GET", "HEAD", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    if not may_upload(request):
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
    if request.method == "POST":
        return _upload_from_form(request)
    return render(request, "web/upload/upload.html", widget_context(request))


@require_http_methods(["GET", "HEAD"])
def upload_done(request: HttpRequest, encoded: str) -> HttpResponse:
    """The links of an upload this session just made (the no-JS form's result page). Only
    the session that uploaded it finds it here: the page carries the delete link."""
    recent: dict[str, str] = request.session.get("recent_uploads", {})
    if encoded not in recent:
        raise Http404
    image = image_get_by_encoded_id(encoded)
    if image is None:
        raise Http404
    codes = image_codes(image, request, delete_token=recent[encoded] or None)
    groups: dict[str, list[Any]] = {}
    for code in codes:
        groups.setdefault(code.group, []).append(code)
    return render(
        request,
        "web/upload/done.html",
        {"image": image, "groups": groups, "thumb": _code_value(codes, "Thumbnail link")},
    )


def _code_value(codes: list[Any], label: str) -> str:
    return next((code.value for code in codes if code.label == label), "")


@login_required
@require_POST
def upload_album(request: HttpRequest) -> HttpResponse:
    """A new album of the user's, from the widget; JSON for the widget's script, else back
    to the upload page (the widget offers it only with JavaScript)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        album = album_create(
            owner=request.user,
            name=request.POST.get("name", ""),
            privacy=request.POST.get("privacy") or "public",
            password=request.POST.get("password", ""),
        )
    except AlbumError as exc:
        if wants_json:
            return JsonResponse({"error": {"message": str(exc)}}, status=400)
        context = widget_context(request)
        context["error"] = str(exc)
        return render(request, "web/upload/upload.html", context, status=400)
    if wants_json:
        return JsonResponse({"id_encoded": encode_id(album.pk), "name": album.name})
    return HttpResponseRedirect(reverse("upload"), status=303)


urlpatterns: list[URLPattern] = [
    path("", home, name="home"),
    path("upload", upload, name="upload"),
    path("upload/json", upload_json, name="upload-json"),
    path("upload/album", upload_album, name="upload-album"),
    path("upload/done/<str:encoded>", upload_done, name="upload-done"),
]
