from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from accounts.models import User
from albums.models import Album
from albums.selectors import album_unlock_mark, viewer_for_user
from social.models import Like, Notification
from social.services import SocialTargetNotFound, like_add, like_remove
from tests.factories import make_album, make_image
from tests.social.people import make_person
from uploads.models import Image

pytestmark = pytest.mark.django_db


def _likes(obj: Image | Album) -> int:
    obj.refresh_from_db(fields=["likes"])
    return obj.likes


def test_liking_an_image_counts_one_like_and_notifies_its_owner(
    user: User, other_user: User
) -> None:
    image = make_image(owner=other_user)
    assert like_add(user=user, image=image) is True
    assert image.likes == 1 and _likes(image) == 1
    notification = Notification.objects.get()
    assert (notification.recipient, notification.actor, notification.kind) == (
        other_user,
        user,
        "like",
    )
    assert notification.image == image and not notification.is_read


def test_liking_twice_is_one_like(user: User, other_user: User) -> None:
    image = make_image(owner=other_user)
    like_add(user=user, image=image)
    assert like_add(user=user, image=image) is False
    assert _likes(image) == 1
    assert Like.objects.count() == 1 and Notification.objects.count() == 1


def test_liking_your_own_image_notifies_nobody(user: User) -> None:
    image = make_image(owner=user)
    like_add(user=user, image=image)
    assert _likes(image) == 1
    assert not Notification.objects.exists()


def test_unliking_removes_the_like_and_its_unread_notification(
    user: User, other_user: User
) -> None:
    image = make_image(owner=other_user)
    like_add(user=user, image=image)
    assert like_remove(user=user, image=image) is True
    assert _likes(image) == 0
    assert not Like.objects.exists() and not Notification.objects.exists()
    assert like_remove(user=user, image=image) is False
    assert _likes(image) == 0


def test_toggling_a_like_after_the_owner_read_it_does_not_notify_again(
    user: User, other_user: User
) -> None:
    image = make_image(owner=other_user)
    like_add(user=user, image=image)
    Notification.objects.update(is_read=True)
    like_remove(user=user, image=image)
    like_add(user=user, image=image)
    assert Notification.objects.count() == 1 and Notification.objects.get().is_read


def test_liking_an_album_counts_on_the_album(user: User, other_user: User) -> None:
    album = make_album(owner=other_user)
    assert like_add(user=user, album=album) is True
    assert _likes(album) == 1
    assert Notification.objects.get().album == album
    like_remove(user=user, album=album)
    assert _likes(album) == 0 and not Notification.objects.exists()


def test_a_private_image_cannot_be_liked_by_others(user: User, other_user: User) -> None:
    image = make_image(owner=other_user, album=make_album(owner=other_user, privacy="private"))
    with pytest.raises(SocialTargetNotFound):
        like_add(user=user, image=image)
    assert _likes(image) == 0 and not Like.objects.exists()


def test_an_image_awaiting_moderation_cannot_be_liked_by_others(
    user: User, other_user: User
) -> None:
    image = make_image(owner=other_user, is_approved=False)
    with pytest.raises(SocialTargetNotFound):
        like_add(user=user, image=image)


def test_a_password_album_can_be_liked_once_the_viewer_unlocked_it(
    user: User, other_user: User
) -> None:
    album = make_album(owner=other_user, privacy="password", password="s3cret")
    with pytest.raises(SocialTargetNotFound):
        like_add(user=user, album=album)
    viewer = viewer_for_user(user=user, unlocks={album.pk: album_unlock_mark(album)})
    assert like_add(user=user, album=album, viewer=viewer) is True


def test_a_private_album_cannot_be_liked_or_unliked_by_others(user: User, other_user: User) -> None:
    album = make_album(owner=other_user, privacy="private")
    with pytest.raises(SocialTargetNotFound):
        like_add(user=user, album=album)
    with pytest.raises(SocialTargetNotFound):
        like_remove(user=user, album=album)


def test_a_stale_object_does_not_overwrite_the_count(user: User, other_user: User) -> None:
    image = make_image(owner=other_user)
    stale = Image.objects.get(pk=image.pk)
    like_add(user=make_person("carol"), image=image)
    # `stale` still says 0 likes: the service must add to the row, not write 0 + 1.
    like_add(user=user, image=stale)
    assert stale.likes == 2 and _likes(image) == 2


def _at_once(count: int, action: Callable[[], object]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait(10)
            action()
        except BaseException as exc:  # surfaced by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_likes_at_once_by_the_same_user_count_once() -> None:
    owner, fan = make_person("owner"), make_person("fan")
    image = make_image(owner=owner)
    errors = _at_once(2, lambda: like_add(user=fan, image=Image.objects.get(pk=image.pk)))
    assert not errors
    assert _likes(image) == 1 and Like.objects.count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_likes_by_many_users_at_once_are_all_counted() -> None:
    owner = make_person("owner")
    image = make_image(owner=owner)
    fans = [make_person(f"fan{i}") for i in range(4)]
    queue = list(fans)
    lock = threading.Lock()

    def like() -> None:
        with lock:
            fan = queue.pop()
        like_add(user=fan, image=Image.objects.get(pk=image.pk))

    assert not _at_once(4, like)
    assert _likes(image) == 4 and Like.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_unlikes_at_once_take_one_like_away() -> None:
    owner, fan, other = make_person("owner"), make_person("fan"), make_person("other")
    image = make_image(owner=owner)
    like_add(user=fan, image=image)
    like_add(user=other, image=image)
    errors = _at_once(2, lambda: like_remove(user=fan, image=Image.objects.get(pk=image.pk)))
    assert not errors
    assert _likes(image) == 1 and Like.objects.count() == 1


def test_liking_an_image_deleted_meanwhile_is_not_found_and_leaves_no_like(
    user: User, other_user: User
) -> None:
    image = make_image(owner=other_user)
    Image.objects.filter(pk=image.pk).delete()  # another request deleted it after we loaded it
    with pytest.raises(SocialTargetNotFound):
        like_add(user=user, image=image)
    assert not Like.objects.exists() and not Notification.objects.exists()
