"""Reads of the social layer: followers, following, notifications and like lookups.

Each returns a queryset with what its listing shows already joined, so a page of any
length costs the same few queries.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from accounts.selectors import users_listed
from albums.models import Album
from albums.selectors import Viewer
from social.models import Follow, Like, Notification
from uploads.selectors import images_visible_to


def album_get_for_like(*, album_id: int) -> Album | None:
    """An album with what the visibility rule and the album body read (owner, cover)."""
    return Album.objects.select_related("owner", "parent", "cover").filter(pk=album_id).first()


def followers_of(
    *, user: User, viewer_user_id: int | None, viewer_is_staff: bool
) -> QuerySet[Follow]:
    """Follow rows pointing at `user`, whose follower's profile the viewer may see (banned
    and private profiles are not listed to others), with the follower joined."""
    listed = users_listed(viewer_user_id=viewer_user_id, viewer_is_staff=viewer_is_staff)
    rows = Follow.objects.filter(followed=user).select_related("follower")
    return rows if viewer_is_staff else rows.filter(follower__in=listed.values("pk"))


def following_of(
    *, user: User, viewer_user_id: int | None, viewer_is_staff: bool
) -> QuerySet[Follow]:
    """Follow rows made by `user`, whose followed profile the viewer may see."""
    listed = users_listed(viewer_user_id=viewer_user_id, viewer_is_staff=viewer_is_staff)
    rows = Follow.objects.filter(follower=user).select_related("followed")
    return rows if viewer_is_staff else rows.filter(followed__in=listed.values("pk"))


def notifications_for(*, user: User, is_read: bool | None = None) -> QuerySet[Notification]:
    """The user's notifications (optionally only read or unread ones), with the actor, the
    image and the album joined and the image's tags prefetched. Notifications by a banned
    actor are hidden: a banned account is gone for everyone else."""
    return _notifications_joined(is_read=is_read).filter(recipient=user)


def notification_for_edit(*, user: User, notification_id: int) -> Notification | None:
    """A notification the user may mark: one of their own; staff may mark anyone's (on user
    routes staff act on anyone's things, as everywhere else)."""
    rows = _notifications_joined(is_read=None)
    if not user.is_staff:
        rows = rows.filter(recipient=user)
    return rows.filter(pk=notification_id).first()


def _notifications_joined(*, is_read: bool | None) -> QuerySet[Notification]:
    rows = (
        Notification.objects.filter(actor__is_active=True)
        .select_related(
            "actor",
            "image__user",
            "image__album__owner",
            "album__owner",
            "album__cover",
        )
        .prefetch_related("image__tags")
    )
    if is_read is not None:
        rows = rows.filter(is_read=is_read)
    return rows


def likes_it(*, user: User, image_id: int | None = None, album_id: int | None = None) -> bool:
    """Whether `user` likes this image (or album): one indexed lookup, for a like button."""
    if not user.is_authenticated:
        return False
    return Like.objects.filter(user=user, image_id=image_id, album_id=album_id).exists()


def follows(*, follower: User, followed: User) -> bool:
    """Whether `follower` follows `followed`, for a follow button."""
    if not follower.is_authenticated:
        return False
    return Follow.objects.filter(follower=follower, followed=followed).exists()


def likes_of_user(*, user: User, viewer: Viewer) -> QuerySet[Like]:
    """The user's likes of uploads this viewer may see in a listing (`images_visible_to`),
    with the image and its uploader joined: a profile's "Liked" tab. Ordered by the caller
    (newest like first on the `(user, created_at, id)` index); each row's image is checked
    by a correlated lookup on its primary key, so a page reads only the rows it shows."""
    visible = images_visible_to(viewer=viewer).filter(pk=OuterRef("image_id"))
    return (
        Like.objects.filter(user=user, image__isnull=False)
        .filter(Exists(visible))
        .select_related("image", "image__user")
    )
