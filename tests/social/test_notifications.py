from __future__ import annotations

import pytest

from accounts.models import User
from social.selectors import notifications_for
from social.services import (
    NotificationNotFound,
    follow_add,
    like_add,
    notification_mark_read,
    notifications_mark_all_read,
)
from tests.factories import make_image
from tests.social.people import make_person

pytestmark = pytest.mark.django_db


def test_notifications_list_the_users_likes_and_follows_only(user: User, other_user: User) -> None:
    like_add(user=other_user, image=make_image(owner=user))
    follow_add(follower=other_user, followed=user)
    follow_add(follower=user, followed=other_user)  # bob's, not alice's
    kinds = sorted(n.kind for n in notifications_for(user=user))
    assert kinds == ["follow", "like"]


def test_notifications_filter_on_read_state(user: User, other_user: User) -> None:
    follow_add(follower=other_user, followed=user)
    like_add(user=other_user, image=make_image(owner=user))
    first = notifications_for(user=user).order_by("id").first()
    notification_mark_read(user=user, notification_id=first.pk)
    assert [n.pk for n in notifications_for(user=user, is_read=True)] == [first.pk]
    assert notifications_for(user=user, is_read=False).count() == 1


def test_marking_read_and_unread_again(user: User, other_user: User) -> None:
    follow_add(follower=other_user, followed=user)
    notification = notifications_for(user=user).get()
    assert notification_mark_read(user=user, notification_id=notification.pk).is_read
    assert not notification_mark_read(
        user=user, notification_id=notification.pk, is_read=False
    ).is_read


def test_someone_elses_notification_cannot_be_marked(user: User, other_user: User) -> None:
    follow_add(follower=user, followed=other_user)
    notification = notifications_for(user=other_user).get()
    with pytest.raises(NotificationNotFound):
        notification_mark_read(user=user, notification_id=notification.pk)


def test_a_banned_actors_notifications_are_hidden(user: User) -> None:
    troll = make_person("troll")
    follow_add(follower=troll, followed=user)
    User.objects.filter(pk=troll.pk).update(is_active=False)
    assert not notifications_for(user=user).exists()


def test_staff_may_mark_anyones_notification(user: User, other_user: User, admin_user) -> None:
    follow_add(follower=user, followed=other_user)
    notification = notifications_for(user=other_user).get()
    assert notification_mark_read(user=admin_user, notification_id=notification.pk).is_read


def test_marking_all_read_marks_only_the_users_own(user: User, other_user: User) -> None:
    follow_add(follower=other_user, followed=user)
    like_add(user=other_user, image=make_image(owner=user))
    follow_add(follower=user, followed=other_user)
    assert notifications_mark_all_read(user=user) == 2
    assert notifications_for(user=user, is_read=False).count() == 0
    assert notifications_for(user=other_user, is_read=False).count() == 1
    assert notifications_mark_all_read(user=user) == 0
