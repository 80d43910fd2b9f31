"""The pieces every page shares: cursor pages, cards, embed codes, like and follow forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.keyset import Sort
from chevereto.core.models import SiteSettings
from social.models import Follow, Like
from tests.factories import client_as, make_album, make_image, make_user
from uploads.models import Image
from web.cards import IMAGE_RELATED, image_cards, viewer_shows_nsfw
from web.embeds import image_codes
from web.paging import page_of, sort_links

pytestmark = pytest.mark.django_db

NEWEST = {"date_desc": Sort.of("-created_at", "-id"), "date_asc": Sort.of("created_at", "id")}


def _images(owner: User, count: int) -> list[Image]:
    start = timezone.now() - timedelta(days=1)
    return [
        make_image(owner=owner, title=f"Shot {n}", created_at=start + timedelta(minutes=n))
        for n in range(count)
    ]


def test_following_the_next_links_walks_every_item_once_in_order() -> None:
    owner = make_user("pager")
    made = _images(owner, 7)
    factory = RequestFactory()
    url, seen, pages = "/x", [], 0
    while url:
        page = page_of(
            factory.get(url), Image.objects.all(), sorts=NEWEST, default="date_desc", per_page=3
        )
        seen += [image.pk for image in page.items]
        pages += 1
        assert page.is_continued == (pages > 1)
        url = page.next_url
    assert seen == [image.pk for image in reversed(made)]
    assert pages == 3


def test_the_next_link_keeps_the_other_query_parameters() -> None:
    _images(make_user("keeper"), 3)
    request = RequestFactory().get("/explore", {"type": "image", "sort": "date_asc"})
    page = page_of(request, Image.objects.all(), sorts=NEWEST, default="date_desc", per_page=2)
    assert page.next_url is not None
    assert page.next_url.startswith("/explore?")
    assert "type=image" in page.next_url and "sort=date_asc" in page.next_url
    assert "seek=" in page.next_url
    assert page.first_url == "/explore?type=image&sort=date_asc"


@pytest.mark.parametrize("query", [{"seek": "garbage!"}, {"seek": "W10"}, {"sort": "nope"}])
def test_a_cursor_or_sort_the_site_never_gave_is_a_missing_page(query: dict) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        page_of(
            RequestFactory().get("/x", query),
            Image.objects.all(),
            sorts=NEWEST,
            default="date_desc",
        )


def test_sort_links_restart_the_listing_and_mark_the_current_sort() -> None:
    request = RequestFactory().get("/u", {"seek": "abc", "type": "video"})
    links = sort_links(request, {"date_desc": "Newest", "date_asc": "Oldest"}, "date_asc")
    assert [link["current"] for link in links] == [False, True]
    assert all(
        "seek" not in str(link["href"]) and "type=video" in str(link["href"]) for link in links
    )


def test_cards_blur_nsfw_uploads_unless_the_viewer_opted_in() -> None:
    owner = make_user("blurry")
    make_image(owner=owner, title="Beach", nsfw=True)
    make_image(owner=owner, title="Hills")
    rows = list(Image.objects.select_related(*IMAGE_RELATED).order_by("title"))
    SiteSettings.load()  # read once per process (the id codec's salt), not per card
    with CaptureQueriesContext(connection) as captured:
        blurred = image_cards(rows, show_nsfw=False)
        shown = image_cards(rows, show_nsfw=True)
    assert captured.captured_queries == []  # cards read only what the listing loaded
    assert [card["blurred"] for card in blurred] == [True, False]
    assert [card["blurred"] for card in shown] == [False, False]
    assert blurred[0]["url"].startswith("/image/") and blurred[0]["thumb"].startswith("/images/")


def test_only_a_user_who_turned_show_nsfw_on_sees_it_unblurred() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert viewer_shows_nsfw(AnonymousUser()) is False
    assert viewer_shows_nsfw(make_user("prude")) is False
    assert viewer_shows_nsfw(make_user("bold", show_nsfw=True)) is True


def test_embed_codes_are_absolute_and_escape_the_title() -> None:
    image = make_image(owner=make_user("coder"), title='Quote " <b>[x]')
    request = RequestFactory().get("/", HTTP_HOST="testserver")
    codes = {code.label: code.value for code in image_codes(image, request, delete_token="f" * 48)}
    assert codes["Viewer link"].startswith("http://testserver/image/")
    assert codes["Direct link"] == f"http://testserver/{image.path}"
    assert codes["Delete link"].endswith("/delete/" + "f" * 48)
    assert "<b>" not in codes["HTML full"] and "&quot;" in codes["HTML full"]
    assert codes["Markdown thumbnail"].startswith('![Quote " <b>\\[x\\]](http://testserver/images/')
    assert codes["BBCode medium linked"].startswith("[url=http://testserver/image/")
    assert len([c for c in codes if c.startswith(("HTML", "Markdown", "BBCode"))]) == 18


def test_no_delete_link_without_a_token() -> None:
    image = make_image(owner=make_user("tokenless"))
    labels = [c.label for c in image_codes(image, RequestFactory().get("/"))]
    assert "Delete link" not in labels


def test_a_like_form_without_javascript_likes_and_goes_back() -> None:
    owner, fan = make_user("liked"), make_user("fan")
    image = make_image(owner=owner)
    response = client_as(fan).post(
        "/like", {"kind": "image", "id": encode_id(image.pk), "action": "like", "next": "/explore"}
    )
    assert response.status_code == 303 and response["Location"] == "/explore"
    assert Like.objects.filter(user=fan, image=image).exists()
    image.refresh_from_db()
    assert image.likes == 1


def test_a_like_posted_by_script_answers_the_state_and_count() -> None:
    owner, fan = make_user("albumist"), make_user("fan2")
    album = make_album(owner=owner)
    client = client_as(fan)
    body = {"kind": "album", "id": encode_id(album.pk), "action": "like"}
    liked = client.post("/like", body, HTTP_ACCEPT="application/json")
    assert liked.json() == {"active": True, "count": 1}
    unliked = client.post("/like", {**body, "action": "unlike"}, HTTP_ACCEPT="application/json")
    assert unliked.json() == {"active": False, "count": 0}


def test_the_like_form_never_redirects_off_the_site() -> None:
    image = make_image(owner=make_user("safe"))
    response = client_as(make_user("fan3")).post(
        "/like",
        {
            "kind": "image",
            "id": encode_id(image.pk),
            "action": "like",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/"


def test_liking_what_you_cannot_see_is_a_404_like_a_missing_thing() -> None:
    owner = make_user("hider")
    hidden = make_image(owner=owner, album=make_album(owner=owner, privacy=Album.Privacy.PRIVATE))
    client = client_as(make_user("snoop"))
    for encoded in (encode_id(hidden.pk), "zzzzzz", "!!"):
        response = client.post("/like", {"kind": "image", "id": encoded, "action": "like"})
        assert response.status_code == 404
    assert client.post("/like", {"kind": "album", "id": "!!", "action": "like"}).status_code == 404
    assert client.post("/like", {"kind": "user", "id": "x", "action": "like"}).status_code == 404
    assert not Like.objects.exists()


def test_guests_are_sent_to_log_in_and_gets_are_refused() -> None:
    image = make_image(owner=make_user("guestless"))
    body = {"kind": "image", "id": encode_id(image.pk), "action": "like"}
    response = Client().post("/like", body)
    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert client_as(make_user("getter")).get("/like").status_code == 405


def test_follow_and_unfollow_through_the_form() -> None:
    star, fan = make_user("star"), make_user("follower")
    client = client_as(fan)
    response = client.post("/follow", {"username": "STAR", "action": "follow"})
    assert response.status_code == 303 and response["Location"] == "/star"
    assert Follow.objects.filter(follower=fan, followed=star).exists()
    answer = client.post(
        "/follow", {"username": "star", "action": "unfollow"}, HTTP_ACCEPT="application/json"
    )
    assert answer.json() == {"active": False, "count": 0}
    assert client.post("/follow", {"username": "follower", "action": "follow"}).status_code == 403
    assert client.post("/follow", {"username": "nobody", "action": "follow"}).status_code == 404
    assert client.post("/follow", {"username": "star", "action": "hug"}).status_code == 404


def test_a_follow_form_is_refused_without_its_csrf_token() -> None:
    make_user("guarded")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("forger"))
    response = client.post("/follow", {"username": "guarded", "action": "follow"})
    assert response.status_code == 403
    assert not Follow.objects.exists()


def test_a_page_with_its_own_description_carries_only_that_one() -> None:
    from chevereto.core.models import SiteSettings as Settings

    site = Settings.load()
    site.site_description = "Pictures of the coast"
    site.save()
    Settings.clear_cache()
    image = make_image(owner=make_user("described"), description="Boats at the quay")
    from uploads.selectors import image_viewer_path

    viewer = Client().get(image_viewer_path(image)).content.decode()
    assert viewer.count('<meta name="description"') == 1
    assert "Boats at the quay" in viewer
    explore = Client().get("/explore").content.decode()
    assert explore.count('<meta name="description" content="Pictures of the coast">') == 1


def test_the_next_link_holds_nothing_that_could_end_its_attribute() -> None:
    _images(make_user("quoter"), 3)
    request = RequestFactory().get('/tag/a"b <c>', {"q": 'x"y'})
    page = page_of(request, Image.objects.all(), sorts=NEWEST, default="date_desc", per_page=2)
    assert page.next_url is not None
    assert not set('"<> ') & set(page.next_url)
    assert page.next_url.startswith("/tag/a%22b%20%3Cc%3E?q=x%22y&seek=")


def test_the_api_schema_describes_the_apis_and_no_page_endpoint() -> None:
    response = Client().get("/api/4/schema/?format=json")
    paths = list(response.json()["paths"])
    assert paths and all(path.startswith("/api/") for path in paths), paths


def test_no_username_can_take_the_first_path_segment_of_a_site_page() -> None:
    import re

    from django.urls import URLPattern, URLResolver, get_resolver

    from accounts.models import RESERVED_USERNAMES

    def first_segments(patterns: list, prefix: str = "") -> set[str]:
        found: set[str] = set()
        for entry in patterns:
            text = prefix + str(entry.pattern).lstrip("^")
            if isinstance(entry, URLResolver):
                found |= first_segments(entry.url_patterns, text)
            elif isinstance(entry, URLPattern):
                found.add(re.split(r"[/?<(\\$]", text, maxsplit=1)[0])
        return found

    could_be_usernames = {
        s
        for s in first_segments(get_resolver().url_patterns)
        if re.fullmatch(r"[A-Za-z0-9_]{3,16}", s)
    }
    assert {"like", "explore", "dashboard", "settings", "album"} <= could_be_usernames
    assert could_be_usernames <= RESERVED_USERNAMES, could_be_usernames - RESERVED_USERNAMES
