"""Discovery: explore/, search/, tags/, categories/ show what listings may show, no more.

Search words are whole words, so these tests hold on SQLite (substring match) and on
PostgreSQL (full-text search), where `make test` runs them again.
"""

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
from tests.factories import make_album, make_image, make_user
from uploads.models import Category, Image, Tag
from uploads.search import search

pytestmark = pytest.mark.django_db


def ids(response: object) -> list[str]:
    return [i["id_encoded"] for i in response.json()["images"]]  # type: ignore[attr-defined]


def eid(image: Image) -> str:
    return encode_id(image.pk)


# -- explore/ -----------------------------------------------------------------------------


def test_explore_shows_listed_uploads_only(client: Client, user: User) -> None:
    listed = make_image(owner=user)
    make_image(owner=user, album=make_album(owner=user, privacy=Album.Privacy.PRIVATE))
    make_image(owner=user, album=make_album(owner=user, privacy=Album.Privacy.PRIVATE_BUT_LINK))
    make_image(owner=user, is_approved=False)
    make_image(owner=make_user("banned", is_active=False))
    make_image(owner=make_user("hermit", is_private=True))
    assert ids(client.get("/api/4/explore/")) == [eid(listed)]


def test_explore_hides_nsfw_unless_the_viewer_asked_for_it(client: Client, user: User) -> None:
    nsfw = make_image(owner=user, nsfw=True)
    safe = make_image(owner=user)
    assert ids(client.get("/api/4/explore/")) == [eid(safe)]
    viewer = make_user("carol", show_nsfw=True)
    client.force_login(viewer)
    assert set(ids(client.get("/api/4/explore/"))) == {eid(nsfw), eid(safe)}


def test_recent_is_newest_first(client: Client, user: User) -> None:
    now = timezone.now()
    old = make_image(owner=user, created_at=now - timedelta(days=3))
    new = make_image(owner=user, created_at=now - timedelta(days=1))
    assert ids(client.get("/api/4/explore/?sort=recent")) == [eid(new), eid(old)]


def test_popular_is_most_liked_then_most_viewed(client: Client, user: User) -> None:
    a = make_image(owner=user, likes=5, views=1)
    b = make_image(owner=user, likes=5, views=9)
    c = make_image(owner=user, likes=9, views=0)
    assert ids(client.get("/api/4/explore/?sort=popular")) == [eid(c), eid(b), eid(a)]


def test_trending_is_popular_within_the_last_week(client: Client, user: User) -> None:
    now = timezone.now()
    make_image(owner=user, likes=100, created_at=now - timedelta(days=30))
    liked = make_image(owner=user, likes=4, created_at=now - timedelta(days=2))
    viewed = make_image(owner=user, likes=1, views=50, created_at=now - timedelta(hours=1))
    assert ids(client.get("/api/4/explore/?sort=trending")) == [eid(liked), eid(viewed)]


def test_explore_filters_by_type(client: Client, user: User) -> None:
    animated = make_image(owner=user, is_animated=True)
    still = make_image(owner=user)
    assert ids(client.get("/api/4/explore/?type=animated")) == [eid(animated)]
    assert set(ids(client.get("/api/4/explore/?type=image"))) == {eid(animated), eid(still)}
    assert ids(client.get("/api/4/explore/?type=video")) == []


def test_explore_pages_walk_every_upload_once_in_each_sort(client: Client, user: User) -> None:
    made = {eid(make_image(owner=user, likes=n % 3, views=n % 2)) for n in range(7)}
    for sort in ("recent", "popular", "trending"):
        seen: list[str] = []
        url = f"/api/4/explore/?sort={sort}&per_page=2"
        while url:
            body = client.get(url).json()
            seen += [i["id_encoded"] for i in body["images"]]
            url = body["next"]
        assert sorted(seen) == sorted(made), sort


@pytest.mark.parametrize(
    "query",
    ["sort=hot", "type=gif", "type=", "nsfw=1", "per_page=101", "sort=popular&cursor=bad"],
)
def test_bad_explore_parameters_are_400(client: Client, query: str) -> None:
    response = client.get(f"/api/4/explore/?{query}")
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


def test_a_cursor_of_another_sort_is_refused(client: Client, user: User) -> None:
    for _ in range(3):
        make_image(owner=user)
    cursor = client.get("/api/4/explore/?sort=recent&per_page=1").json()["cursor"]
    assert client.get(f"/api/4/explore/?sort=popular&cursor={cursor}").status_code == 400


def test_explore_costs_the_same_queries_for_5_and_for_50_uploads(
    client: Client, user: User
) -> None:
    tag = Tag.objects.create(name="harbour")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/4/explore/?per_page=100").status_code == 200
        return len(queries)

    for _ in range(5):
        make_image(owner=user).tags.add(tag)
    count()  # the first request also reads the site's settings, cached afterwards
    few = count()
    for _ in range(45):
        make_image(owner=user).tags.add(tag)
    assert count() == few


# -- search/ ------------------------------------------------------------------------------


def test_search_finds_listed_uploads_by_title_description_or_tag(
    client: Client, user: User
) -> None:
    by_title = make_image(owner=user, title="Lighthouse at dusk")
    by_description = make_image(owner=user, title="Untitled", description="an old lighthouse")
    by_tag = make_image(owner=user, title="Rocks")
    by_tag.tags.add(Tag.objects.create(name="lighthouse"))
    make_image(owner=user, title="Cat")
    make_image(
        owner=user,
        title="Secret lighthouse",
        album=make_album(owner=user, privacy=Album.Privacy.PRIVATE),
    )
    found = set(ids(client.get("/api/4/search/?q=lighthouse")))
    assert found == {eid(by_title), eid(by_description), eid(by_tag)}


def test_search_hides_nsfw_uploads_from_viewers_who_did_not_ask(client: Client, user: User) -> None:
    make_image(owner=user, title="Lighthouse", nsfw=True)
    assert ids(client.get("/api/4/search/?q=lighthouse")) == []


def test_an_upload_with_two_matching_tags_is_found_once(client: Client, user: User) -> None:
    image = make_image(owner=user, title="Rocks")
    image.tags.add(Tag.objects.create(name="sea"), Tag.objects.create(name="seaside"))
    assert ids(client.get("/api/4/search/?q=sea")) == [eid(image)]


def test_search_finds_listed_albums_by_name(client: Client, user: User) -> None:
    public = make_album(owner=user, name="Harbour walks")
    make_album(owner=user, name="Harbour secrets", privacy=Album.Privacy.PRIVATE)
    make_album(owner=user, name="Harbour link", privacy=Album.Privacy.PRIVATE_BUT_LINK)
    body = client.get("/api/4/search/?q=harbour&type=albums").json()
    assert [a["id_encoded"] for a in body["albums"]] == [encode_id(public.pk)]


def test_search_finds_no_album_of_a_private_profile_but_its_owner_does(client: Client) -> None:
    hermit = make_user("hermit", is_private=True)
    album = make_album(owner=hermit, name="Harbour walks")
    assert client.get("/api/4/search/?q=harbour&type=albums").json()["albums"] == []
    client.force_login(hermit)
    found = client.get("/api/4/search/?q=harbour&type=albums").json()["albums"]
    assert [a["id_encoded"] for a in found] == [encode_id(album.pk)]


def test_search_costs_the_same_queries_for_5_and_for_50_uploads(client: Client, user: User) -> None:
    tag = Tag.objects.create(name="harbour")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/4/search/?q=harbour&per_page=100")
        assert response.status_code == 200
        return len(queries)

    for _ in range(5):
        make_image(owner=user, title="Harbour").tags.add(tag)
    count()  # the first request also reads the site's settings, cached afterwards
    few = count()
    for _ in range(45):
        make_image(owner=user, title="Harbour").tags.add(tag)
    assert count() == few


def test_search_finds_public_people_by_username_or_name(client: Client) -> None:
    make_user("sailor")
    make_user("zed", name="Old Sailor")
    make_user("hidden_sailor", is_private=True)
    body = client.get("/api/4/search/?q=sailor&type=users&sort=date_asc").json()
    assert [u["username"] for u in body["users"]] == ["sailor", "zed"]


@pytest.mark.parametrize(
    "query",
    [
        *("", "q=", "q=%20%20", "q=" + "x" * 101, "q=a%00b"),
        *("q=x&type=photos", "q=x&type=", "q=x&order=new"),
    ],
)
def test_bad_search_parameters_are_400(client: Client, query: str) -> None:
    response = client.get(f"/api/4/search/?{query}")
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


def test_the_search_selector_refuses_what_the_api_refuses(user: User) -> None:
    from albums.selectors import GUEST

    with pytest.raises(ValueError):
        search(viewer=GUEST, show_nsfw=False, q="", kind="images")
    with pytest.raises(ValueError):
        search(viewer=GUEST, show_nsfw=False, q="x", kind="photos")


def test_the_postgresql_path_uses_full_text_search(user: User) -> None:
    # Built, not run: the query names the search vector when asked for PostgreSQL.
    from albums.selectors import GUEST

    images = search(viewer=GUEST, show_nsfw=False, q="harbour", kind="images", vendor="postgresql")
    albums = search(viewer=GUEST, show_nsfw=False, q="harbour", kind="albums", vendor="postgresql")
    assert "search" in images.query.annotations and "search" in albums.query.annotations
    plain = search(viewer=GUEST, show_nsfw=False, q="harbour", kind="images", vendor="sqlite")
    assert "search" not in plain.query.annotations


# -- tags/ and categories/ ----------------------------------------------------------------


def test_tags_are_those_of_listed_uploads_sorted_by_name(client: Client, user: User) -> None:
    make_image(owner=user).tags.add(Tag.objects.create(name="sea"))
    make_image(owner=user).tags.add(Tag.objects.create(name="boats"))
    hidden = make_image(owner=user, album=make_album(owner=user, privacy=Album.Privacy.PRIVATE))
    hidden.tags.add(Tag.objects.create(name="diary"))
    Tag.objects.create(name="unused")
    body = client.get("/api/4/tags/").json()
    assert [t["name"] for t in body["tags"]] == ["boats", "sea"]
    assert body["tags"][0]["url"] == "http://testserver/tag/boats"
    client.force_login(user)
    assert "diary" in [t["name"] for t in client.get("/api/4/tags/").json()["tags"]]


def test_tags_filter_by_q_and_page_by_name(client: Client, user: User) -> None:
    image = make_image(owner=user)
    for name in ("sea", "seaside", "seal", "boat"):
        image.tags.add(Tag.objects.create(name=name))
    first = client.get("/api/4/tags/?q=sea&per_page=2").json()
    assert [t["name"] for t in first["tags"]] == ["sea", "seal"]
    second = client.get(first["next"]).json()
    assert [t["name"] for t in second["tags"]] == ["seaside"] and second["next"] is None


def test_categories_are_listed_by_name(client: Client) -> None:
    Category.objects.create(name="Travel", slug="travel", description="Far away")
    Category.objects.create(name="Animals", slug="animals")
    body = client.get("/api/4/categories/").json()
    assert [c["slug"] for c in body["categories"]] == ["animals", "travel"]
    travel = body["categories"][1]
    assert travel["description"] == "Far away"
    assert travel["url"] == "http://testserver/category/travel"
    assert isinstance(travel["id"], int)


@pytest.mark.parametrize("url", ["/api/4/tags/?sort=count", "/api/4/categories/?q=x"])
def test_bad_tag_and_category_parameters_are_400(client: Client, url: str) -> None:
    assert client.get(url).status_code == 400
