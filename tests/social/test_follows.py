from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import User
from social.models import Follow, Notification
from social.selectors import followers_of, following_of
from social.services import (
    CannotFollowYourself,
    SocialTargetNotFound,
    follow_add,
    follow_remove,
)
from tests.social.people import make_person

pytestmark = pytest.mark.django_db


def _counts(user: User) -> tuple[int, int]:
    user.refresh_from_db(fields=["followers_count", "following_count"])
    return user.followers_count, user.following_count


def test_following_counts_on_both_sides_and_notifies_the_followed(
    user: User, other_user: User
) -> None:
    assert follow_add(follower=user, followed=other_user) is True
    assert _counts(other_user) == (1, 0) and _counts(user) == (0, 1)
    notification = Notification.objects.get()
    assert (notification.recipient, notification.actor, notification.kind) == (
        other_user,
        user,
        "follow",
    )


def test_following_twice_is_one_follow(user: User, other_user: User) -> None:
    follow_add(follower=user, followed=other_user)
    assert follow_add(follower=user, followed=other_user) is False
    assert _counts(other_user) == (1, 0)
    assert Follow.objects.count() == 1 and Notification.objects.count() == 1


def test_unfollowing_undoes_the_counts_and_the_unread_notification(
    user: User, other_user: User
) -> None:
    follow_add(follower=user, followed=other_user)
    assert follow_remove(follower=user, followed=other_user) is True
    assert _counts(other_user) == (0, 0) and _counts(user) == (0, 0)
    assert not Notification.objects.exists()
    assert follow_remove(follower=user, followed=other_user) is False
    assert _counts(other_user) == (0, 0)


def test_you_cannot_follow_yourself(user: User) -> None:
    with pytest.raises(CannotFollowYourself):
        follow_add(follower=user, followed=user)
    assert _counts(user) == (0, 0)


def test_unfollowing_yourself_changes_nothing(user: User) -> None:
    assert follow_remove(follower=user, followed=user) is False
    assert _counts(user) == (0, 0)
    assert not Follow.objects.exists()


def test_a_private_profile_cannot_be_followed(user: User) -> None:
    shy = make_person("shy", is_private=True)
    with pytest.raises(SocialTargetNotFound):
        follow_add(follower=user, followed=shy)
    assert not Follow.objects.exists()


def test_a_banned_user_cannot_be_followed(user: User) -> None:
    banned = make_person("banned", is_active=False)
    with pytest.raises(SocialTargetNotFound):
        follow_add(follower=user, followed=banned)


def test_staff_may_follow_a_private_profile(admin_user: User) -> None:
    shy = make_person("shy", is_private=True)
    assert follow_add(follower=admin_user, followed=shy) is True


def test_followers_lists_hide_private_and_banned_profiles_from_others(user: User) -> None:
    shy, banned, fan = (
        make_person("shy", is_private=True),
        make_person("banned"),
        make_person("fan"),
    )
    for follower in (shy, banned, fan):
        follow_add(follower=follower, followed=user)
    User.objects.filter(pk=banned.pk).update(is_active=False)
    seen = followers_of(user=user, viewer_user_id=None, viewer_is_staff=False)
    assert [f.follower.username for f in seen] == ["fan"]
    by_staff = followers_of(user=user, viewer_user_id=None, viewer_is_staff=True)
    assert by_staff.count() == 3
    by_shy = followers_of(user=user, viewer_user_id=shy.pk, viewer_is_staff=False)
    assert {f.follower.username for f in by_shy} == {"fan", "shy"}


def test_following_lists_what_the_user_follows(user: User, other_user: User) -> None:
    follow_add(follower=user, followed=other_user)
    rows = following_of(user=user, viewer_user_id=None, viewer_is_staff=False)
    assert [f.followed for f in rows] == [other_user]


@pytest.mark.django_db(transaction=True)
def test_two_follows_at_once_count_once() -> None:
    fan, star = make_person("fan"), make_person("star")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def follow() -> None:
        try:
            barrier.wait(10)
            follow_add(follower=User.objects.get(pk=fan.pk), followed=User.objects.get(pk=star.pk))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=follow) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert _counts(star) == (1, 0) and _counts(fan) == (0, 1)
    assert Follow.objects.count() == 1 and Notification.objects.count() == 1
