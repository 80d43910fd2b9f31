"""The notification object API V4 answers with."""

from __future__ import annotations

from datetime import UTC

from django.http import HttpRequest
from django.utils import timezone

from albums.selectors import Viewer, album_visible_to
from chevereto.core.encoding import encode_id
from social.models import Notification
from uploads.representation import (
    DATE_FORMAT,
    album_representation,
    image_representation,
    user_representation,
)
from uploads.selectors import image_visible_to


def notification_representation(
    notification: Notification, request: HttpRequest, *, viewer: Viewer
) -> dict[str, object]:
    """Who did what to which of my things. Reads the actor, image and album the selector
    (`social.selectors.notifications_for`) joined: no query per notification. An image or
    album the recipient can no longer open (an expired upload) is shown as null."""
    image = notification.image
    album = notification.album
    created = notification.created_at
    return {
        "id": encode_id(notification.pk),
        "kind": notification.kind,
        "is_read": notification.is_read,
        "date": timezone.localtime(created).strftime(DATE_FORMAT),
        "date_gmt": created.astimezone(UTC).strftime(DATE_FORMAT),
        "actor": user_representation(notification.actor, request),
        "image": image_representation(image, request)
        if image is not None and image_visible_to(viewer=viewer, image=image)
        else None,
        "album": album_representation(album, request)
        if album is not None and album_visible_to(viewer=viewer, album=album)
        else None,
    }
