"""Web pages: the user's notifications (likes of their uploads and albums, new followers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_POST

from albums.selectors import album_path
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from chevereto.core.keyset import Sort
from social.models import Notification
from social.selectors import notifications_for
from social.services import (
    NotificationNotFound,
    notification_mark_read,
    notifications_mark_all_read,
)
from uploads.files import variant_file
from uploads.selectors import image_viewer_path
from web.cards import viewer_shows_nsfw
from web.paging import page_of

PER_PAGE = 30
SORTS = {"recent": Sort.of("-created_at", "-id")}


def _actor(user: Any) -> dict[str, object]:
    return {
        "url": f"/{user.username}",
        "username": user.username,
        "name": user.display_name,
        "avatar": "/" + user.avatar if user.avatar else None,
        "initial": (user.display_name or user.username)[:1].upper(),
    }


def _ago(moment: datetime) -> str:
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    # timesince says the two largest units ("3 days, 4 hours"); one is enough here.
    return timesince(moment, depth=1) + " ago"


def notification_item(notification: Notification, *, show_nsfw: bool) -> dict[str, object]:
    """What one line of the list shows, from the rows the selector joined (no query)."""
    item: dict[str, object] = {
        "id": encode_id(notification.pk),
        "kind": notification.kind,
        "is_read": notification.is_read,
        "created_at": notification.created_at,
        "ago": _ago(notification.created_at),
        "actor": _actor(notification.actor),
        "image": None,
        "album": None,
    }
    image = notification.image
    if image is not None:
        thumb = variant_file(image, "thumb")
        item["image"] = {
            "url": image_viewer_path(image),
            "title": image.title or image.original_filename or "your upload",
            "thumb": "/" + thumb.name if thumb else None,
            "blurred": image.nsfw and not show_nsfw,
            "is_video": image.is_video,
        }
    album = notification.album
    if album is not None:
        cover = album.cover
        thumb = variant_file(cover, "thumb") if cover is not None else None
        item["album"] = {
            "url": album_path(album),
            "name": album.name,
            "thumb": "/" + thumb.name if thumb else None,
            "blurred": bool(cover is not None and cover.nsfw and not show_nsfw),
        }
    # The thumbnail beside the line: the upload, or the album's cover.
    item["target"] = item["image"] or item["album"]
    return item


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    rows = notifications_for(user=request.user)
    page = page_of(request, rows, sorts=SORTS, default="recent", per_page=PER_PAGE)
    show_nsfw = viewer_shows_nsfw(request.user)
    items = [notification_item(n, show_nsfw=show_nsfw) for n in page.items]
    return render(
        request,
        "web/account/notifications.html",
        {"items": items, "page": page, "any_unread": any(not i["is_read"] for i in items)},
    )


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """303 to the page the form was on (only a path of this site), else the list."""
    target = request.POST.get("next") or "/notifications"
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/notifications"
    response = HttpResponseRedirect(target)
    response.status_code = 303
    return response


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    try:
        notification_id = decode_id(request.POST.get("id", ""))
        notification_mark_read(user=request.user, notification_id=notification_id)
    except (InvalidEncodedId, NotificationNotFound):
        return HttpResponse("No such notification", status=404, content_type="text/plain")
    return _back(request)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return _back(request)


urlpatterns: list[URLPattern] = [
    path("notifications", notifications, name="notifications"),
    path("notifications/read", notification_read, name="notification-read"),
    path("notifications/read-all", notifications_read_all, name="notifications-read-all"),
]
