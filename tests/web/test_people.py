"""Profile pages: who may see a profile, what each tab lists for whom, the follow button,
pages and the queries they cost."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from social.models import Follow
from social.services import follow_add, like_add
from tests.factories import client_as, make_album, make_image, make_user
from tests.web.queries import assert_constant_queries
from uploads.models import Image
from web import people

pytestmark = pytest.mark.django_db


def person(username: str, **fields: object) -> User:
    # No password: hashing one is most of a test's time, and force_login needs none.
    return make_user(username, password=None, **fields)  # type: ignore[arg-type]


def titles(html: str) -> list[str]:
    return re.findall(r'<span class="list-item-title">([^<]*)</span>', html)


def usernames(html: str) -> list[str]:
    return re.findall(r"<span class=\"muted small\">@(\w+)", html)


@pytest.fixture
def ada() -> User:
    return person("ada", name="Ada Lovelace", bio="Counts <b>engines</b>\nand poems")


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(people, "PER_PAGE", 2)
    yield


# -- who may see a profile ----------------------------------------------------------------


def test_a_profile_shows_its_header_to_anyone(ada: User) -> None:
    response = Client().get("/ada")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="profile-name">Ada Lovelace</h1>' in html
    assert "@ada" in html
    # The bio is escaped, its lines kept.
    assert "Counts &lt;b&gt;engines&lt;/b&gt;<br>and poems" in html
    assert 'class="profile-banner profile-banner-empty"' in html
    assert '<span class="avatar avatar-large profile-avatar" aria-hidden="true">A</span>' in html


def test_a_profile_with_a_trailing_slash_is_the_same_page(ada: User) -> None:
    assert Client().get("/ada/").status_code == 200
    assert Client().get("/ada/albums/").status_code == 200


def test_the_avatar_background_and_website_are_shown(ada: User) -> None:
    ada.avatar = "profiles/avatars/" + "a" * 32 + ".png"
    ada.background = "profiles/backgrounds/" + "b" * 32 + ".jpg"
    ada.website = "https://ada.example.org/notes/"
    ada.save()
    html = Client().get("/ada").content.decode()
    assert f'<img src="/{ada.background}" alt="">' in html
    assert f'src="/{ada.avatar}" alt="Ada Lovelace"' in html
    assert (
        '<a href="https://ada.example.org/notes/" rel="nofollow ugc noopener">'
        "ada.example.org/notes</a>" in html
    )


def test_a_missing_user_is_a_404() -> None:
    assert Client().get("/nobody").status_code == 404
    assert Client().get("/nobody/albums").status_code == 404


def test_a_banned_users_profile_is_a_404_like_a_missing_one_except_for_staff(ada: User) -> None:
    ada.is_active = False
    ada.save()
    bea = client_as(person("bea"))
    for tab in ("", "/albums", "/liked", "/followers", "/following"):
        assert Client().get(f"/ada{tab}").status_code == 404
        assert bea.get(f"/ADA{tab}").status_code == 404
    staff = client_as(person("root", is_staff=True)).get("/ada").content.decode()
    assert "Banned" in staff
    assert 'action="/follow"' not in staff  # a banned account cannot be followed


def test_a_private_profile_is_seen_by_its_owner_and_staff_only(ada: User) -> None:
    ada.is_private = True
    ada.save()
    assert Client().get("/ada").status_code == 404
    assert client_as(person("bea")).get("/ada/followers").status_code == 404
    own = client_as(ada).get("/ada")
    assert own.status_code == 200
    assert "Your profile is private" in own.content.decode()
    assert client_as(person("root", is_staff=True)).get("/ada/liked").status_code == 200


def test_a_username_in_another_case_redirects_to_the_canonical_one(ada: User) -> None:
    response = Client().get("/ADA/albums?sort=name")
    assert response.status_code == 301
    assert response["Location"] == "/ada/albums?sort=name"
    assert Client().get("/Ada").headers["Location"] == "/ada"


def test_a_hidden_profile_in_another_case_is_a_404_not_a_redirect(ada: User) -> None:
    ada.is_private = True
    ada.save()
    assert Client().get("/ADA").status_code == 404


def test_a_profile_page_takes_no_post(ada: User) -> None:
    assert client_as(ada).post("/ada").status_code == 405


# -- the uploads tab ------------------------------------------------------------------------


def test_the_uploads_tab_lists_what_others_may_see_in_chevereto_markup(ada: User) -> None:
    make_image(owner=ada, title="Open sea")
    hidden = {
        "In private": make_album(owner=ada, name="Mine", privacy=Album.Privacy.PRIVATE),
        "In link-only": make_album(owner=ada, name="Link", privacy=Album.Privacy.PRIVATE_BUT_LINK),
        "In password": make_album(
            owner=ada, name="Pw", privacy=Album.Privacy.PASSWORD, password="sesame"
        ),
    }
    for title, album in hidden.items():
        make_image(owner=ada, album=album, title=title)
    make_image(owner=ada, title="Awaiting", is_approved=False)
    make_image(owner=ada, title="Gone", expires_at=timezone.now() - timedelta(minutes=1))
    make_image(owner=person("bea"), title="Not hers")

    stranger = Client().get("/ada").content.decode()
    assert titles(stranger) == ["Open sea"]
    # Chevereto's listing markup: the item, its viewer link, then the image container.
    assert re.search(
        r'<div class="list-item-image[^"]*"[^>]*>\s*<a href="/image/open-sea\.\w+">\s*'
        r'<div class="image-container',
        stranger,
    )
    own = client_as(ada).get("/ada").content.decode()
    assert sorted(titles(own)) == sorted(
        ["Open sea", "In private", "In link-only", "In password", "Awaiting"]
    )


def test_nsfw_uploads_are_blurred_for_guests_but_not_for_who_opted_in(ada: User) -> None:
    make_image(owner=ada, title="Spicy", nsfw=True)
    guest = Client().get("/ada").content.decode()
    assert 'class="image-container blurred"' in guest
    assert "Spicy" in guest
    fan = person("fan", show_nsfw=True)
    shown = client_as(fan).get("/ada").content.decode()
    assert "Spicy" in shown and "blurred" not in shown


def test_the_uploads_tab_pages_with_a_next_link_in_each_order(ada: User, small_pages: None) -> None:
    start = timezone.now() - timedelta(days=1)
    for n, views in enumerate([5, 50, 1]):
        make_image(owner=ada, title=f"Shot {n}", created_at=start + timedelta(hours=n), views=views)
    first = Client().get("/ada").content.decode()
    assert titles(first) == ["Shot 2", "Shot 1"]
    link = re.search(r'<a data-pagination="next" href="([^"]+)" >', first)
    assert link is not None
    second = Client().get(link.group(1)).content.decode()
    assert titles(second) == ["Shot 0"]
    assert 'data-pagination="next"' not in second
    assert titles(Client().get("/ada?sort=most-viewed").content.decode()) == ["Shot 1", "Shot 0"]
    assert titles(Client().get("/ada?sort=oldest").content.decode()) == ["Shot 0", "Shot 1"]
    assert Client().get("/ada?sort=sideways").status_code == 404
    assert Client().get("/ada?seek=nonsense").status_code == 404


# -- the albums tab -------------------------------------------------------------------------


def test_the_albums_tab_lists_public_albums_to_others_and_all_to_the_owner(ada: User) -> None:
    make_album(owner=ada, name="Public trip")
    make_album(owner=ada, name="Only me", privacy=Album.Privacy.PRIVATE)
    make_album(owner=ada, name="By link", privacy=Album.Privacy.PRIVATE_BUT_LINK)
    make_album(owner=ada, name="Locked", privacy=Album.Privacy.PASSWORD, password="sesame")
    make_album(owner=person("bea"), name="Not hers")

    stranger = client_as(person("cleo")).get("/ada/albums").content.decode()
    assert titles(stranger) == ["Public trip"]
    assert "New album" not in stranger

    own = client_as(ada).get("/ada/albums").content.decode()
    assert sorted(titles(own)) == ["By link", "Locked", "Only me", "Public trip"]
    # The owner's non-public albums carry their privacy.
    assert own.count('<span class="tag-kind">') == 3
    assert '<a class="btn btn-primary btn-small" href="/albums/new">New album</a>' in own


def test_the_albums_tab_pages(ada: User, small_pages: None) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        make_album(owner=ada, name=name)
    first = Client().get("/ada/albums?sort=name").content.decode()
    assert titles(first) == ["Alpha", "Beta"]
    assert 'data-pagination="next"' in first


# -- the liked tab --------------------------------------------------------------------------


def test_the_liked_tab_lists_liked_uploads_the_viewer_may_see_newest_like_first(
    ada: User,
) -> None:
    bea = person("bea")
    first, second = make_image(owner=bea, title="First"), make_image(owner=bea, title="Second")
    link_only = make_album(owner=bea, name="Link", privacy=Album.Privacy.PRIVATE_BUT_LINK)
    secret = make_image(owner=bea, album=link_only, title="Secret")
    for image in (first, second, secret):
        like_add(user=ada, image=image, viewer=None)
    Image.objects.filter(pk=second.pk).update(is_approved=False)

    html = client_as(person("cleo")).get("/ada/liked").content.decode()
    assert titles(html) == ["First"]
    # Bea sees her own moderated and link-only uploads among them, newest like first.
    assert titles(client_as(bea).get("/ada/liked").content.decode()) == [
        "Secret",
        "Second",
        "First",
    ]


def test_the_liked_tab_pages(ada: User, small_pages: None) -> None:
    bea = person("bea")
    for n in range(3):
        like_add(user=ada, image=make_image(owner=bea, title=f"Like {n}"), viewer=None)
    first = Client().get("/ada/liked").content.decode()
    assert titles(first) == ["Like 2", "Like 1"]
    link = re.search(r'<a data-pagination="next" href="([^"]+)" >', first)
    assert link is not None
    assert titles(Client().get(link.group(1)).content.decode()) == ["Like 0"]


# -- followers and following ----------------------------------------------------------------


def test_followers_and_following_list_people_others_may_see(ada: User) -> None:
    bea, cleo = person("bea"), person("cleo")
    hidden = person("hidden", is_private=True)
    for fan in (bea, cleo, hidden):
        follow_add(follower=fan, followed=ada)
    follow_add(follower=ada, followed=bea)

    followers = Client().get("/ada/followers").content.decode()
    assert usernames(followers) == ["cleo", "bea"]
    following = Client().get("/ada/following").content.decode()
    assert usernames(following) == ["bea"]
    # The private follower sees themself among them.
    assert "hidden" in usernames(client_as(hidden).get("/ada/followers").content.decode())


def test_the_followers_tab_pages(ada: User, small_pages: None) -> None:
    for name in ("bea", "cleo", "dora"):
        follow_add(follower=person(name), followed=ada)
    first = Client().get("/ada/followers").content.decode()
    assert usernames(first) == ["dora", "cleo"]
    assert 'data-pagination="next"' in first


def test_an_empty_tab_says_so(ada: User) -> None:
    assert "No followers yet." in Client().get("/ada/followers").content.decode()
    assert "You have not liked anything yet." in client_as(ada).get("/ada/liked").content.decode()


# -- the follow button ----------------------------------------------------------------------


def test_guests_are_asked_to_log_in_to_follow(ada: User) -> None:
    html = Client().get("/ada").content.decode()
    assert '<a class="btn btn-primary" href="/login?next=/ada">Log in to follow</a>' in html
    assert 'action="/follow"' not in html


def test_your_own_profile_links_to_settings_instead_of_a_follow_button(ada: User) -> None:
    html = client_as(ada).get("/ada").content.decode()
    assert '<a class="btn" href="/settings">Edit profile</a>' in html
    assert 'action="/follow"' not in html


def test_the_follow_button_follows_without_javascript_and_comes_back(ada: User) -> None:
    bea = person("bea")
    client = client_as(bea)
    html = client.get("/ada").content.decode()
    assert 'name="action" value="follow"' in html
    assert 'aria-pressed="false">Follow</button>' in html
    response = client.post("/follow", {"username": "ada", "action": "follow", "next": "/ada"})
    assert response.status_code == 303 and response["Location"] == "/ada"
    after = client.get("/ada").content.decode()
    assert 'name="action" value="unfollow"' in after
    assert 'aria-pressed="true">Following</button>' in after
    assert '<strong id="followers-count">1</strong>' in after


def test_the_follow_button_answers_scripts_with_the_state_and_count(ada: User) -> None:
    client = client_as(person("bea"))
    body = {"username": "ada", "action": "follow"}
    assert client.post("/follow", body, HTTP_ACCEPT="application/json").json() == {
        "active": True,
        "count": 1,
    }
    body["action"] = "unfollow"
    assert client.post("/follow", body, HTTP_ACCEPT="application/json").json() == {
        "active": False,
        "count": 0,
    }
    assert not Follow.objects.exists()


def test_you_cannot_follow_yourself(ada: User) -> None:
    response = client_as(ada).post("/follow", {"username": "ada", "action": "follow"})
    assert response.status_code == 403
    assert not Follow.objects.exists()


# -- queries --------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["guest", "follower", "owner"])
def test_every_tab_runs_the_same_queries_whatever_it_lists(ada: User, viewer: str) -> None:
    bea = person("bea")
    client = {"guest": Client(), "follower": client_as(bea), "owner": client_as(ada)}[viewer]
    made = {"n": 0}

    def name() -> str:
        made["n"] += 1
        return f"u{made['n']}"

    def more_uploads() -> None:
        for _ in range(2):
            make_image(owner=ada, album=make_album(owner=ada, name=name()))

    def more_albums() -> None:
        for _ in range(2):
            make_album(owner=ada, name=name())
            make_image(owner=ada, album=Album.objects.filter(owner=ada).latest("pk"))

    def more_likes() -> None:
        for _ in range(2):
            like_add(user=ada, image=make_image(owner=person(name())), viewer=None)

    def more_followers() -> None:
        for _ in range(2):
            follow_add(follower=person(name()), followed=ada)

    def more_following() -> None:
        for _ in range(2):
            follow_add(follower=ada, followed=person(name()))

    more_uploads(), more_albums(), more_likes(), more_followers(), more_following()
    for url, add_more in (
        ("/ada", more_uploads),
        ("/ada/albums", more_albums),
        ("/ada/liked", more_likes),
        ("/ada/followers", more_followers),
        ("/ada/following", more_following),
    ):
        assert_constant_queries(client, url, add_more=add_more)
