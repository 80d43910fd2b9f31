"""Public profiles: users/list/, users/{username}/ and its images/ and albums/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests.factories import make_album, make_image, make_user
from uploads.models import Tag

pytestmark = pytest.mark.django_db


def usernames(response: object) -> list[str]:
    return [u["username"] for u in response.json()["users"]]  # type: ignore[attr-defined]


# -- users/list/ ----------------------------------------------------------------------------


def test_the_list_shows_public_active_profiles_only(client: Client, user: User) -> None:
    make_user("carol")
    make_user("dave", is_private=True)
    make_user("erin", is_active=False)
    assert sorted(usernames(client.get("/api/4/users/list/"))) == ["alice", "carol"]


def test_a_private_profile_is_listed_for_its_owner_and_staff(
    client: Client, admin_key: str
) -> None:
    dave = make_user("dave", is_private=True)
    client.force_login(dave)
    assert "dave" in usernames(client.get("/api/4/users/list/"))
    client.logout()
    assert "dave" in usernames(client.get("/api/4/users/list/", HTTP_X_API_KEY=admin_key))


def test_q_matches_part_of_a_username_or_a_name(client: Client) -> None:
    make_user("harbourfan")
    make_user("zed", name="Harbour Master")
    make_user("other")
    found = usernames(client.get("/api/4/users/list/?q=HARBOUR&sort=username_asc"))
    assert found == ["harbourfan", "zed"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("date_desc", ["u3", "u2", "u1"]),
        ("date_asc", ["u1", "u2", "u3"]),
        ("username_asc", ["u1", "u2", "u3"]),
        ("image_count_desc", ["u2", "u1", "u3"]),
        ("followers_desc", ["u3", "u1", "u2"]),
    ],
)
def test_every_sort_orders_the_list(client: Client, sort: str, expected: list[str]) -> None:
    now = timezone.now()
    for n, (images, followers) in enumerate([(5, 2), (9, 1), (0, 7)], start=1):
        make_user(
            f"u{n}",
            date_joined=now - timedelta(days=10 - n),
            image_count=images,
            followers_count=followers,
        )
    assert usernames(client.get(f"/api/4/users/list/?sort={sort}")) == expected


def test_paging_walks_every_user_once(client: Client) -> None:
    for n in range(7):
        make_user(f"p{n}", image_count=n % 2)
    seen: list[str] = []
    url = "/api/4/users/list/?per_page=3&sort=image_count_desc"
    while url:
        body = client.get(url).json()
        seen += [u["username"] for u in body["users"]]
        url = body["next"]
    assert sorted(seen) == [f"p{n}" for n in range(7)]


@pytest.mark.parametrize(
    "query", ["sort=karma", "order=asc", "per_page=0", "cursor=zzz", "q=" + "x" * 101, "q=a%00b"]
)
def test_bad_list_parameters_are_400(client: Client, query: str) -> None:
    response = client.get(f"/api/4/users/list/?{query}")
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


def test_the_list_costs_the_same_queries_for_5_and_for_50_users(client: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/4/users/list/?per_page=100").status_code == 200
        return len(queries)

    for n in range(5):
        make_user(f"a{n}")
    count()  # the first request also reads the site's settings, cached afterwards
    few = count()
    for n in range(45):
        make_user(f"b{n}")
    assert count() == few


# -- users/{username}/ ------------------------------------------------------------------


def test_a_public_profile_is_shown_to_anyone_in_any_case(client: Client, user: User) -> None:
    response = client.get("/api/4/users/ALICE/")
    assert response.status_code == 200
    assert response.json()["user"]["username"] == "alice"
    assert "email" not in response.json()["user"]


@pytest.mark.parametrize("state", ["private", "banned", "unknown"])
def test_a_hidden_profile_is_a_404_like_an_unknown_one(
    client: Client, other_user: User, state: str
) -> None:
    make_user("dave", is_private=state == "private", is_active=state != "banned")
    name = "nobody" if state == "unknown" else "dave"
    client.force_login(other_user)
    response = client.get(f"/api/4/users/{name}/")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "User not found."


def test_a_private_profile_is_shown_to_its_owner(client: Client) -> None:
    dave = make_user("dave", is_private=True)
    client.force_login(dave)
    assert client.get("/api/4/users/dave/").status_code == 200


# -- users/{username}/images/ -------------------------------------------------------------


def ids(response: object) -> list[str]:
    return [i["id_encoded"] for i in response.json()["images"]]  # type: ignore[attr-defined]


def test_a_profiles_images_are_those_this_viewer_may_see_in_a_listing(
    client: Client, user: User, other_user: User
) -> None:
    shown = make_image(owner=user)
    in_public = make_image(owner=user, album=make_album(owner=user))
    hidden = make_image(owner=user, album=make_album(owner=user, privacy=Album.Privacy.PRIVATE))
    linked = make_image(
        owner=user, album=make_album(owner=user, privacy=Album.Privacy.PRIVATE_BUT_LINK)
    )
    pending = make_image(owner=user, is_approved=False)
    make_image(owner=other_user)
    guest_sees = set(ids(client.get("/api/4/users/alice/images/")))
    assert guest_sees == {encode_id(shown.pk), encode_id(in_public.pk)}
    client.force_login(user)
    assert set(ids(client.get("/api/4/users/alice/images/"))) == {
        encode_id(i.pk) for i in (shown, in_public, hidden, linked, pending)
    }


def test_a_private_profiles_images_are_a_404_to_others_and_shown_to_the_owner(
    client: Client, other_user: User
) -> None:
    dave = make_user("dave", is_private=True)
    make_image(owner=dave)
    client.force_login(other_user)
    assert client.get("/api/4/users/dave/images/").status_code == 404
    assert client.get("/api/4/users/dave/albums/").status_code == 404
    client.force_login(dave)
    response = client.get("/api/4/users/dave/images/")
    assert response.status_code == 200 and len(ids(response)) == 1


def test_nsfw_uploads_show_only_to_viewers_who_asked_and_to_the_owner(
    client: Client, user: User
) -> None:
    make_image(owner=user, nsfw=True)
    make_image(owner=user)
    carol = make_user("carol")
    client.force_login(carol)
    assert len(ids(client.get("/api/4/users/alice/images/"))) == 1
    carol.show_nsfw = True
    carol.save()
    assert len(ids(client.get("/api/4/users/alice/images/"))) == 2
    client.force_login(user)
    assert len(ids(client.get("/api/4/users/alice/images/"))) == 2


def test_images_sort_by_views_and_filter_by_album(client: Client, user: User) -> None:
    album = make_album(owner=user)
    low = make_image(owner=user, album=album, views=3)
    high = make_image(owner=user, album=album, views=30)
    make_image(owner=user, views=10)
    response = client.get(
        f"/api/4/users/alice/images/?sort=views_desc&album_id={encode_id(album.pk)}"
    )
    assert ids(response) == [encode_id(high.pk), encode_id(low.pk)]


def test_images_filter_by_type(client: Client, user: User) -> None:
    animated = make_image(owner=user, is_animated=True)
    make_image(owner=user)
    assert ids(client.get("/api/4/users/alice/images/?type=animated")) == [encode_id(animated.pk)]
    assert ids(client.get("/api/4/users/alice/images/?type=video")) == []


@pytest.mark.parametrize("query", ["sort=random", "type=gif", "type=", "album_id=!!", "colour=red"])
def test_bad_image_parameters_are_400(client: Client, user: User, query: str) -> None:
    assert client.get(f"/api/4/users/alice/images/?{query}").status_code == 400


def test_a_profiles_images_cost_the_same_queries_for_5_and_for_50(
    client: Client, user: User
) -> None:
    tag = Tag.objects.create(name="harbour")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/4/users/alice/images/?per_page=100")
        assert response.status_code == 200
        return len(queries)

    for _ in range(5):
        make_image(owner=user).tags.add(tag)
    count()  # the first request also reads the site's settings, cached afterwards
    few = count()
    for _ in range(45):
        make_image(owner=user).tags.add(tag)
    assert count() == few


# -- users/{username}/albums/ -------------------------------------------------------------


def test_a_profiles_albums_are_the_listed_ones(client: Client, user: User) -> None:
    public = make_album(owner=user, name="Public")
    make_album(owner=user, name="Mine", privacy=Album.Privacy.PRIVATE)
    make_album(owner=user, name="Link", privacy=Album.Privacy.PRIVATE_BUT_LINK)
    make_album(owner=user, name="Locked", privacy=Album.Privacy.PASSWORD, password="pw-12345")
    body = client.get("/api/4/users/alice/albums/").json()
    assert [a["id_encoded"] for a in body["albums"]] == [encode_id(public.pk)]
    client.force_login(user)
    assert len(client.get("/api/4/users/alice/albums/").json()["albums"]) == 4


def test_a_profiles_albums_cost_the_same_queries_for_5_and_for_50(
    client: Client, user: User
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/4/users/alice/albums/?per_page=100&sort=name_asc")
        assert response.status_code == 200
        return len(queries)

    def add(n: int) -> None:
        for i in range(n):
            album = make_album(owner=user, name=f"Album {i}")
            album.cover = make_image(owner=user, album=album)
            album.save()

    add(5)
    count()  # the first request also reads the site's settings, cached afterwards
    few = count()
    add(45)
    assert count() == few


def test_public_routes_refuse_a_bad_key_but_take_the_guest_key(
    client: Client, user: User, site: SiteSettings
) -> None:
    assert client.get("/api/4/users/alice/", HTTP_X_API_KEY="chv_bad_key").status_code == 401
    guest = client.get("/api/4/users/alice/", HTTP_X_API_KEY=site.guest_api_key)
    assert guest.status_code == 200
