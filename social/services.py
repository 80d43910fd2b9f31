"""Writes of the social layer: likes, follows and the notifications they make.

Counters (`Image.likes`, `Album.likes`, `User.followers_count`, `User.following_count`)
move by one atomic `UPDATE ... SET n = n ± 1`, and only when a row was really inserted or
deleted: the unique constraints decide which of two concurrent likes counts, so liking
twice (or twice at once) counts once, and an object loaded before someone else's like
never writes a stale count back.

Likes and follows go only to what the actor may see (the visibility selectors); anything
else raises `SocialTargetNotFound`, which the APIs answer as a 404, exactly as they answer
an id that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.db.models.functions import Greatest

from accounts.models import User
from accounts.selectors import user_profile_visible_to
from albums.models import Album
from albums.selectors import Viewer, album_visible_to, viewer_for_user
from social.models import Follow, Like, Notification
from social.selectors import notification_for_edit
from uploads.models import Image
from uploads.selectors import image_visible_to


class SocialTargetNotFound(Exception):
    """The image, album or profile does not exist for this user (missing or not visible)."""


class CannotFollowYourself(Exception):
    """Following yourself is refused: a 403 (the request is understood, the profile is
    visible, but no one may do this), not a 400 (nothing in it is malformed)."""


class NotificationNotFound(Exception):
    """No such notification among the user's own."""


def _bump(model: type[Model], pk: int, field: str, delta: int) -> int:
    # Floored at zero: a count that drifted never makes the update fail.
    value = F(field) + delta if delta > 0 else Greatest(F(field) + delta, 0)
    return model._default_manager.filter(pk=pk).update(**{field: value})


def _refresh_likes(target: Model) -> None:
    try:
        target.refresh_from_db(fields=["likes"])
    except ObjectDoesNotExist:
        raise SocialTargetNotFound("Not found.") from None


def _insert_once(model: type[Model], **fields: Any) -> bool:
    """Insert the row unless the unique constraint already holds one; True if inserted.

    The savepoint keeps the caller's transaction usable after a duplicate: on PostgreSQL a
    concurrent insert of the same key waits for the first to commit and then fails here.
    """
    try:
        with transaction.atomic():
            model._default_manager.create(**fields)
    except IntegrityError:
        return False
    return True


def _like_target(
    *, user: User, image: Image | None, album: Album | None, viewer: Viewer | None
) -> tuple[type[Image] | type[Album], Image | Album, int | None]:
    """The liked object, its model and its owner id, once checked visible to the user."""
    if (image is None) == (album is None):
        raise ValueError("Like exactly one of an image or an album.")
    viewer = viewer or viewer_for_user(user=user)
    if image is not None:
        if not image_visible_to(viewer=viewer, image=image):
            raise SocialTargetNotFound("image")
        return Image, image, image.user_id
    assert album is not None
    if not album_visible_to(viewer=viewer, album=album):
        raise SocialTargetNotFound("album")
    return Album, album, album.owner_id


def like_add(
    *,
    user: User,
    image: Image | None = None,
    album: Album | None = None,
    viewer: Viewer | None = None,
) -> bool:
    """Like an image or an album; True if this call made the like (False: it existed).

    `viewer` carries the session's album unlocks when the request has them (a password
    album opened in the browser); without it the user's own rights are used. The object's
    `likes` is refreshed from the database, so the caller shows the real count.
    """
    model, target, owner_id = _like_target(user=user, image=image, album=album, viewer=viewer)
    with transaction.atomic():
        created = _insert_once(Like, user=user, image=image, album=album)
        # The counter's UPDATE also tells whether the target still exists: deleted by a
        # concurrent request, it matches no row, and the like is rolled back here instead
        # of failing its foreign key check at commit (PostgreSQL checks it only then).
        if created and not _bump(model, target.pk, "likes", +1):
            raise SocialTargetNotFound("Not found.")
        if created and owner_id is not None and owner_id != user.pk:
            _notify(
                recipient_id=owner_id,
                actor=user,
                kind=Notification.Kind.LIKE,
                image=image,
                album=album,
            )
    _refresh_likes(target)
    return created


def like_remove(
    *,
    user: User,
    image: Image | None = None,
    album: Album | None = None,
    viewer: Viewer | None = None,
) -> bool:
    """Take a like back; True if there was one. Its unread notification goes with it."""
    model, target, owner_id = _like_target(user=user, image=image, album=album, viewer=viewer)
    with transaction.atomic():
        # A plain DELETE's row count: of two concurrent removals only one sees the row.
        deleted, _ = Like.objects.filter(user=user, image=image, album=album).delete()
        if deleted:
            _bump(model, target.pk, "likes", -1)
            if owner_id is not None:
                _unnotify(
                    recipient_id=owner_id,
                    actor=user,
                    kind=Notification.Kind.LIKE,
                    image=image,
                    album=album,
                )
    _refresh_likes(target)
    return bool(deleted)


def _follow_check(*, follower: User, followed: User) -> None:
    if not user_profile_visible_to(
        viewer_user_id=follower.pk, viewer_is_staff=follower.is_staff, user=followed
    ):
        raise SocialTargetNotFound("user")


def follow_add(*, follower: User, followed: User) -> bool:
    """Follow a profile the follower may see; True if this call made the follow."""
    if follower.pk == followed.pk:
        raise CannotFollowYourself("You cannot follow yourself.")
    _follow_check(follower=follower, followed=followed)
    with transaction.atomic():
        created = _insert_once(Follow, follower=follower, followed=followed)
        if created:
            _bump(User, followed.pk, "followers_count", +1)
            _bump(User, follower.pk, "following_count", +1)
            _notify(recipient_id=followed.pk, actor=follower, kind=Notification.Kind.FOLLOW)
    followed.refresh_from_db(fields=["followers_count", "following_count"])
    follower.refresh_from_db(fields=["followers_count", "following_count"])
    return created


def follow_remove(*, follower: User, followed: User) -> bool:
    """Stop following; True if there was a follow. Its unread notification goes with it.
    Like unfollowing anyone not followed, unfollowing yourself changes nothing (False)."""
    _follow_check(follower=follower, followed=followed)
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(follower=follower, followed=followed).delete()
        if deleted:
            _bump(User, followed.pk, "followers_count", -1)
            _bump(User, follower.pk, "following_count", -1)
            _unnotify(recipient_id=followed.pk, actor=follower, kind=Notification.Kind.FOLLOW)
    followed.refresh_from_db(fields=["followers_count", "following_count"])
    follower.refresh_from_db(fields=["followers_count", "following_count"])
    return bool(deleted)


def _notify(
    *,
    recipient_id: int,
    actor: User,
    kind: str,
    image: Image | None = None,
    album: Album | None = None,
) -> None:
    """One notification per (actor, kind, target): liking again after the owner read the
    first one does not notify again, so toggling a like cannot spam anyone."""
    fields = {"recipient_id": recipient_id, "actor": actor, "kind": kind}
    fields.update(image=image, album=album)
    if not Notification.objects.filter(**fields).exists():
        Notification.objects.create(**fields)


def _unnotify(
    *,
    recipient_id: int,
    actor: User,
    kind: str,
    image: Image | None = None,
    album: Album | None = None,
) -> None:
    """Remove the unread notification an undone like or follow made (a read one stays:
    it is history the recipient has already seen)."""
    Notification.objects.filter(
        recipient_id=recipient_id, actor=actor, kind=kind, image=image, album=album, is_read=False
    ).delete()


def notification_mark_read(
    *, user: User, notification_id: int, is_read: bool = True
) -> Notification:
    """Mark one of the user's notifications read (or unread again); staff may mark anyone's.
    The notification comes with the joins its body needs (the list's selector)."""
    notification = notification_for_edit(user=user, notification_id=notification_id)
    if notification is None:
        raise NotificationNotFound(notification_id)
    if notification.is_read != is_read:
        notification.is_read = is_read
        notification.save(update_fields=["is_read"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read, in one UPDATE; how many it marked."""
    return Notification.objects.filter(recipient=user, is_read=False).update(is_read=True)
