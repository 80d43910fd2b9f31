"""A user's liked uploads, as a profile's "Liked" tab lists them for each viewer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from albums.models import Album
from albums.selectors import GUEST, viewer_for_user
from chevereto.core.keyset import Sort
from social.models import Like
from social.selectors import likes_of_user
from social.services import like_add
from tests.factories import make_album, make_image
from tests.social.people import make_person
from uploads.models import Image

pytestmark = pytest.mark.django_db

NEWEST = Sort.of("-created_at", "-id").order_by()


def _titles(likes: object) -> list[str]:
    return [like.image.title for like in likes.order_by(*NEWEST)]  # type: ignore[attr-defined]


def test_it_lists_the_users_liked_uploads_newest_like_first() -> None:
    fan, owner = make_person("fan"), make_person("owner")
    for title in ("One", "Two", "Three"):
        like_add(user=fan, image=make_image(owner=owner, title=title))
    assert _titles(likes_of_user(user=fan, viewer=GUEST)) == ["Three", "Two", "One"]


def test_it_leaves_out_album_likes_and_other_peoples_likes() -> None:
    fan, other, owner = make_person("fan"), make_person("other"), make_person("owner")
    like_add(user=fan, album=make_album(owner=owner))
    like_add(user=other, image=make_image(owner=owner, title="Theirs"))
    assert _titles(likes_of_user(user=fan, viewer=GUEST)) == []


def test_it_hides_from_the_viewer_what_listings_hide_from_them() -> None:
    fan, owner = make_person("fan"), make_person("owner")
    link_only = make_album(owner=owner, name="Link", privacy=Album.Privacy.PRIVATE_BUT_LINK)
    images = {
        "Open": make_image(owner=owner, title="Open"),
        "Link-only": make_image(owner=owner, album=link_only, title="Link-only"),
        "Moderated": make_image(owner=owner, title="Moderated"),
        "Expiring": make_image(owner=owner, title="Expiring"),
    }
    for image in images.values():
        like_add(user=fan, image=image)
    Image.objects.filter(pk=images["Moderated"].pk).update(is_approved=False)
    Image.objects.filter(pk=images["Expiring"].pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert _titles(likes_of_user(user=fan, viewer=GUEST)) == ["Open"]
    assert _titles(likes_of_user(user=fan, viewer=viewer_for_user(user=fan))) == ["Open"]
    # The uploader still sees their own (an expired upload is gone for everyone).
    mine = likes_of_user(user=fan, viewer=viewer_for_user(user=owner))
    assert _titles(mine) == ["Moderated", "Link-only", "Open"]


def test_a_private_profiles_uploads_are_not_listed_to_others() -> None:
    fan, shy = make_person("fan"), make_person("shy")
    like_add(user=fan, image=make_image(owner=shy, title="Shy's"))
    shy.is_private = True
    shy.save()
    assert _titles(likes_of_user(user=fan, viewer=GUEST)) == []
    assert _titles(likes_of_user(user=fan, viewer=viewer_for_user(user=shy))) == ["Shy's"]


def test_each_like_comes_with_its_image_and_uploader_in_one_query(
    django_assert_num_queries: object,
) -> None:
    fan, owner = make_person("fan"), make_person("owner")
    for n in range(3):
        like_add(user=fan, image=make_image(owner=owner, title=f"N{n}"))
    with django_assert_num_queries(1):  # type: ignore[operator]
        rows: list[Like] = list(likes_of_user(user=fan, viewer=GUEST).order_by(*NEWEST))
        assert [like.image.user.username for like in rows] == ["owner"] * 3
