"""Site figures, and the rebuild of every stored counter from the rows it counts."""

from __future__ import annotations

import pytest

from accounts.models import User
from albums.models import Album
from social.models import Follow, Like
from social.stats import counters_rebuild, site_counts
from tests.factories import make_album, make_image
from uploads.models import Image

pytestmark = pytest.mark.django_db


def test_the_rebuild_fixes_every_drifted_counter(user: User, other_user: User) -> None:
    album = make_album(owner=user)
    image = make_image(owner=user, album=album)
    Like.objects.create(user=other_user, image=image)
    Like.objects.create(user=other_user, album=album)
    Follow.objects.create(follower=other_user, followed=user)
    User.objects.filter(pk=user.pk).update(image_count=9, album_count=0, followers_count=5)
    User.objects.filter(pk=other_user.pk).update(following_count=0, image_count=3)
    Album.objects.filter(pk=album.pk).update(image_count=0, likes=7)
    Image.objects.filter(pk=image.pk).update(likes=0)
    fixed = counters_rebuild()
    user.refresh_from_db()
    other_user.refresh_from_db()
    album.refresh_from_db()
    image.refresh_from_db()
    assert (user.image_count, user.album_count, user.followers_count) == (1, 1, 1)
    assert (other_user.image_count, other_user.following_count) == (0, 1)
    assert (album.image_count, album.likes, image.likes) == (1, 1, 1)
    assert fixed["user.image_count"] == 2 and fixed["image.likes"] == 1


def test_a_healthy_site_needs_no_fix(user: User) -> None:
    make_image(owner=user, album=make_album(owner=user))
    assert set(counters_rebuild().values()) == {0}


def test_a_scoped_rebuild_touches_only_the_rows_named(user: User, other_user: User) -> None:
    User.objects.filter(pk__in=[user.pk, other_user.pk]).update(image_count=4)
    counters_rebuild(user_ids=[user.pk])
    assert dict(User.objects.values_list("username", "image_count")) == {"alice": 0, "bob": 4}


def test_site_counts(user: User) -> None:
    make_image(owner=user)
    video = make_image(owner=None)
    Image.objects.filter(pk=video.pk).update(kind="video", is_approved=False)
    counts = site_counts()
    assert (counts["users"], counts["images"], counts["videos"]) == (1, 1, 1)
    assert counts["awaiting_approval"] == 1
    assert counts["storage_bytes"] >= counts["storage_originals_bytes"] > 0
