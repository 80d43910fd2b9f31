"""Discovery pages: explore, category, tag and search list what listings may show, in
Chevereto's markup, page by page, with a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.models import SiteSettings
from tests.factories import make_album, make_image, make_user
from tests.web.queries import assert_constant_queries
from uploads.models import Category, Image, Tag
from uploads.search import QUERY_MAX
from web import discovery

pytestmark = pytest.mark.django_db

# Any next link (the exact markup has its own test below).
NEXT_LINK = re.compile(r'<a [^>]*data-pagination="next"[^>]* href="([^"]+)"')


def titles(response) -> list[str]:
    """The titles of the upload cards, in page order."""
    return re.findall(r'<span class="list-item-title">([^<]*)</span>', response.content.decode())


def next_url(response) -> str | None:
    found = NEXT_LINK.search(response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def ago(**delta: float):
    return timezone.now() - timedelta(**delta)


def tagged(image: Image, *names: str) -> Image:
    for name in names:
        image.tags.add(Tag.objects.get_or_create(name=name)[0])
    return image


@pytest.fixture
def owner() -> User:
    return make_user("marina", name="Marina Costa")


# --- Explore -------------------------------------------------------------------------------


def test_explore_lists_public_uploads_and_nothing_a_listing_hides(client: Client, owner) -> None:
    make_image(owner=owner, title="Public harbour")
    make_image(owner=None, title="Guest harbour")
    private = make_album(owner=owner, name="Family", privacy=Album.Privacy.PRIVATE)
    make_image(owner=owner, album=private, title="In a private album")
    make_image(owner=owner, title="Awaiting moderation", is_approved=False)
    make_image(owner=owner, title="Expired", expires_at=ago(minutes=1))
    hidden = make_user("hermit", is_private=True)
    make_image(owner=hidden, title="Private profile")
    banned = make_user("banned", is_active=False)
    make_image(owner=banned, title="Banned owner")

    for url in ("/explore", "/explore/recent", "/explore/popular", "/explore/trending"):
        response = client.get(url)
        assert response.status_code == 200
        assert sorted(titles(response)) == ["Guest harbour", "Public harbour"], url


def test_explore_shows_the_owner_nothing_more_than_strangers_see_of_others(
    client: Client, owner
) -> None:
    private = make_album(owner=owner, name="Family", privacy=Album.Privacy.PRIVATE)
    make_image(owner=owner, album=private, title="Mine, private")
    client.force_login(owner)
    assert titles(client.get("/explore")) == ["Mine, private"]
    client.force_login(make_user("stranger"))
    assert titles(client.get("/explore")) == []


def test_explore_is_in_chevereto_markup_with_a_title_a_heading_and_tabs(client, owner) -> None:
    image = make_image(owner=owner, title="Harbour at dawn")
    html = client.get("/explore/popular").content.decode()
    assert "<title>Popular — " in html
    assert "<h1>Explore" in html
    assert re.search(
        r'<div class="list-item-image[^"]*"[^>]*>\s*<a href="/image/[^"]+">\s*'
        r'<div class="image-container',
        html,
    )
    assert f'data-id="{image.pk}"' in html
    assert '<a href="/explore/popular" aria-current="page">Popular</a>' in html
    assert '<a href="/explore/trending">Trending</a>' in html
    assert 'href="/explore/popular?type=video"' in html


def test_recent_is_newest_first(client, owner) -> None:
    make_image(owner=owner, title="Old", created_at=ago(days=3))
    make_image(owner=owner, title="New", created_at=ago(hours=1))
    make_image(owner=owner, title="Middle", created_at=ago(days=1))
    assert titles(client.get("/explore")) == ["New", "Middle", "Old"]


def test_trending_lists_only_the_last_seven_days_ordered_by_likes(client, owner) -> None:
    make_image(owner=owner, title="Old favourite", created_at=ago(days=8), likes=99)
    make_image(owner=owner, title="Liked this week", created_at=ago(days=6), likes=5)
    make_image(owner=owner, title="Loved today", created_at=ago(hours=2), likes=9)
    make_image(owner=owner, title="Unliked", created_at=ago(hours=1), likes=0, views=50)
    assert titles(client.get("/explore/trending")) == [
        "Loved today",
        "Liked this week",
        "Unliked",
    ]


def test_popular_orders_by_likes_then_views_over_all_time(client, owner) -> None:
    make_image(owner=owner, title="Old favourite", created_at=ago(days=400), likes=10)
    make_image(owner=owner, title="Liked and seen", likes=3, views=100)
    make_image(owner=owner, title="Liked, less seen", likes=3, views=10)
    make_image(owner=owner, title="Seen only", likes=0, views=1000)
    assert titles(client.get("/explore/popular")) == [
        "Old favourite",
        "Liked and seen",
        "Liked, less seen",
        "Seen only",
    ]


def test_the_type_tabs_filter_videos_and_animated_pictures(client, owner) -> None:
    make_image(owner=owner, title="Still")
    make_image(owner=owner, title="Clip", kind=Image.Kind.VIDEO)
    make_image(owner=owner, title="Loop", is_animated=True)
    assert titles(client.get("/explore?type=video")) == ["Clip"]
    assert titles(client.get("/explore/recent?type=animated")) == ["Loop"]
    assert sorted(titles(client.get("/explore?type=image"))) == ["Loop", "Still"]
    assert sorted(titles(client.get("/explore"))) == ["Clip", "Loop", "Still"]
    html = client.get("/explore/trending?type=video").content.decode()
    assert '<a class="chip" href="/explore/trending?type=video" aria-current="page">' in html
    # Changing the section keeps the media type.
    assert 'href="/explore/popular?type=video"' in html


def test_nsfw_uploads_are_blurred_for_guests_and_shown_to_who_opted_in(client, owner) -> None:
    make_image(owner=owner, title="Spicy", nsfw=True)
    guest_html = client.get("/explore").content.decode()
    assert 'class="image-container blurred"' in guest_html
    client.force_login(make_user("grownup", show_nsfw=True))
    html = client.get("/explore").content.decode()
    assert titles(client.get("/explore")) == ["Spicy"]
    assert "blurred" not in html.split('class="list list-images"')[1]


@pytest.mark.parametrize(
    "url",
    [
        "/explore/newest",
        "/explore?type=gif",
        "/explore/recent?sort=popular",
        "/explore/popular?sort=recent",
        "/explore?seek=not-a-cursor",
        "/category/no-such-thing",
        "/tag/nobody-uses-this",
        "/search?q=cat&type=everything",
    ],
)
def test_a_page_that_does_not_exist_is_a_404(client, owner, url: str) -> None:
    make_image(owner=owner)
    assert client.get(url).status_code == 404


def test_the_section_may_name_its_own_sort(client, owner) -> None:
    make_image(owner=owner)
    assert client.get("/explore/popular?sort=popular").status_code == 200


# --- Paging --------------------------------------------------------------------------------


def test_the_next_link_is_chevereto_markup_and_walks_every_upload_once(
    client, owner, monkeypatch
) -> None:
    monkeypatch.setattr(discovery, "PER_PAGE", 2)
    for n in range(5):
        make_image(owner=owner, title=f"Shot {n}", created_at=ago(hours=10 - n))
    url: str | None = "/explore?type=image"
    seen: list[str] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += titles(response)
        url = next_url(response)
        if url:
            assert url.startswith("/explore?") and "type=image" in url and "seek=" in url
    assert seen == ["Shot 4", "Shot 3", "Shot 2", "Shot 1", "Shot 0"]


def test_the_next_link_is_written_as_chevereto_writes_it(client, owner, monkeypatch) -> None:
    """gallery-dl's Chevereto extractor cuts the link out of the page text between
    '<a data-pagination="next" href="' and '" ><' (older releases) or '"' (newer ones), so
    nothing may come between `<a`, the attribute and the href; the ampersands of the query
    must reach it as they are."""
    monkeypatch.setattr(discovery, "PER_PAGE", 1)
    make_image(owner=owner, title="One", created_at=ago(hours=2))
    make_image(owner=owner, title="Two", created_at=ago(hours=1))
    html = client.get("/explore?type=image").content.decode()
    start = html.index('<a data-pagination="next" href="') + len('<a data-pagination="next" href="')
    assert html[start:].index('" ><') == html[start:].index('"')
    url = html[start : start + html[start:].index('"')]
    assert titles(client.get(url)) == ["One"]


def test_search_pages_follow_on_without_repeats(client, owner, monkeypatch) -> None:
    monkeypatch.setattr(discovery, "PER_PAGE", 2)
    for n in range(3):
        make_image(owner=owner, title=f"Lighthouse {n}", created_at=ago(hours=5 - n))
    make_image(owner=owner, title="Unrelated")
    first = client.get("/search?q=lighthouse")
    assert titles(first) == ["Lighthouse 2", "Lighthouse 1"]
    second = client.get(next_url(first))
    assert titles(second) == ["Lighthouse 0"]
    assert next_url(second) is None
    assert "First page" in second.content.decode()


# --- Categories and tags -------------------------------------------------------------------


def test_a_category_page_lists_its_listed_uploads_newest_first(client, owner) -> None:
    ports = Category.objects.create(name="Ports", slug="ports", description="Boats and docks")
    make_image(owner=owner, title="Dock", category=ports, created_at=ago(days=2))
    make_image(owner=owner, title="Pier", category=ports, created_at=ago(days=1))
    make_image(owner=owner, title="Elsewhere")
    make_image(owner=owner, title="Hidden dock", category=ports, is_approved=False)
    response = client.get("/category/ports")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Ports — " in html and "<h1>Ports</h1>" in html and "Boats and docks" in html
    assert titles(response) == ["Pier", "Dock"]
    # Explore links to the categories.
    assert 'href="/category/ports"' in client.get("/explore").content.decode()


def test_a_tag_page_takes_unicode_and_spaces_by_name_or_slug(client, owner) -> None:
    tagged(make_image(owner=owner, title="Sakura"), "桜 の 花")
    tagged(make_image(owner=owner, title="Dusk"), "Golden Hour")
    make_image(owner=owner, title="Untagged")

    response = client.get("/tag/" + quote("桜 の 花"))
    assert response.status_code == 200
    assert titles(response) == ["Sakura"]
    assert "<title>#桜 の 花 — " in response.content.decode()

    assert titles(client.get("/tag/Golden%20Hour")) == ["Dusk"]
    assert titles(client.get("/tag/golden hour")) == ["Dusk"]
    assert titles(client.get("/tag/golden-hour")) == ["Dusk"]


def test_a_tag_only_hidden_uploads_carry_is_no_page_for_strangers(client, owner) -> None:
    private = make_album(owner=owner, name="Diary", privacy=Album.Privacy.PRIVATE)
    tagged(make_image(owner=owner, album=private, title="Secret"), "surprise party")
    assert client.get("/tag/surprise party").status_code == 404
    client.force_login(owner)
    assert titles(client.get("/tag/surprise party")) == ["Secret"]


# --- Search --------------------------------------------------------------------------------


def test_search_finds_uploads_by_title_description_and_tag(client, owner) -> None:
    make_image(owner=owner, title="Lisbon tram", created_at=ago(hours=3))
    make_image(
        owner=owner, title="Yellow car", description="Seen in Lisbon", created_at=ago(hours=2)
    )
    tagged(make_image(owner=owner, title="Rooftops", created_at=ago(hours=1)), "lisbon")
    make_image(owner=owner, title="Porto bridge")
    private = make_album(owner=owner, name="Hidden", privacy=Album.Privacy.PRIVATE)
    make_image(owner=owner, album=private, title="Lisbon at night")

    response = client.get("/search?q=lisbon")
    assert response.status_code == 200
    assert titles(response) == ["Rooftops", "Yellow car", "Lisbon tram"]
    html = response.content.decode()
    # The query is echoed in the header box and in the page's own.
    assert re.search(r'<input id="top-search-q"[^>]* value="lisbon"', html)
    assert "Results for “lisbon”" in html
    assert '<a href="/search?q=lisbon&amp;type=albums">Albums</a>' in html


def test_search_finds_albums_by_name_and_people_by_username(client, owner) -> None:
    make_album(owner=owner, name="Azores hikes")
    make_album(owner=owner, name="Azores secrets", privacy=Album.Privacy.PRIVATE)
    make_user("azorean")
    make_user("azores_hidden", is_private=True)

    albums = client.get("/search?q=azores&type=albums").content.decode()
    assert "Azores hikes" in albums and "Azores secrets" not in albums
    assert 'class="list-item-album' in albums

    people = client.get("/search?q=azor&type=users").content.decode()
    assert "@azorean" in people and "azores_hidden" not in people
    by_name = client.get("/search?q=costa&type=users").content.decode()
    assert "@marina" in by_name


def test_an_empty_search_shows_a_hint_and_runs_no_search(client, owner) -> None:
    make_image(owner=owner, title="Anything")
    for url in ("/search", "/search?q=", "/search?q=%20%20"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert "Type a few words" in response.content.decode()
        assert not any("uploads_image" in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize("q", ["x" * (QUERY_MAX + 1), "cat\x00dog", "line\nbreak"])
def test_a_query_no_form_sends_is_a_400_page_with_a_message(client, q: str) -> None:
    response = client.get("/search", {"q": q})
    assert response.status_code == 400
    assert "at most 100 characters and no control characters" in response.content.decode()


# --- Queries -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _steady_site_settings(monkeypatch) -> None:
    # SiteSettings.load() re-reads its row every 5 seconds; making users and files between two
    # loads can take longer on a busy machine, which would count one query more that is not
    # the listing's.
    monkeypatch.setattr(SiteSettings, "CACHE_SECONDS", 3600.0)


def _more(owner: User, **fields: object):
    def add() -> None:
        for n in range(3):
            tagged(make_image(owner=owner, title=f"Lighthouse extra {n}", **fields), "coast")

    return add


@pytest.mark.parametrize(
    "url",
    [
        "/explore",
        "/explore/recent",
        "/explore/trending",
        "/explore/popular?type=image",
        "/tag/coast",
        "/search?q=lighthouse",
    ],
)
@pytest.mark.parametrize("logged_in", [False, True])
def test_listing_pages_run_a_constant_number_of_queries(
    client, owner, url: str, logged_in: bool
) -> None:
    tagged(make_image(owner=owner, title="Lighthouse", nsfw=True), "coast")
    if logged_in:
        client.force_login(make_user("reader"))
    assert_constant_queries(client, url, add_more=_more(owner))


def test_the_category_page_runs_a_constant_number_of_queries(client, owner) -> None:
    ports = Category.objects.create(name="Ports", slug="ports")
    make_image(owner=owner, category=ports)
    assert_constant_queries(client, "/category/ports", add_more=_more(owner, category=ports))


def test_album_and_people_search_run_a_constant_number_of_queries(client, owner) -> None:
    cover = make_image(owner=owner)
    album = make_album(owner=owner, name="Coast walk")
    Album.objects.filter(pk=album.pk).update(cover=cover)

    made = iter(range(100))

    def more() -> None:
        for _ in range(3):
            n = next(made)
            make_album(owner=make_user(f"coaster{n}"), name=f"Coast {n}")

    make_user("coastal")
    for kind in ("albums", "users"):
        assert_constant_queries(client, f"/search?q=coast&type={kind}", add_more=more)


def test_the_popular_order_reads_its_index_instead_of_sorting_every_upload() -> None:
    from albums.selectors import GUEST
    from uploads.search import images_explore

    make_image(owner=make_user("popular"))
    page = images_explore(viewer=GUEST, show_nsfw=True, sort="popular").order_by(
        "-likes", "-views", "-id"
    )[:43]
    if connection.vendor == "postgresql":
        # A near-empty table is cheaper to scan and sort: with both priced out, the plan
        # shows whether the index can give this order by itself.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    plan = page.explain()
    assert "uploads_likes_views_id" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan
