"""Album pages: who sees what at each privacy level, Chevereto's markup, paging, sub-albums,
and the owner's tools (create, edit, move, cover, delete, add from my uploads)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from albums.selectors import album_path, albums_visible_to, viewer_for_user
from chevereto.core.encoding import encode_id
from social.models import Like
from tests.factories import client_as, make_album, make_image, make_user
from tests.web.queries import assert_constant_queries
from uploads.models import Image, ViewHit

pytestmark = pytest.mark.django_db

PASSWORD = "open sesame"


@pytest.fixture
def owner() -> User:
    return make_user("olga")


@pytest.fixture
def stranger() -> User:
    return make_user("sam")


def _album(owner: User, privacy: str = Album.Privacy.PUBLIC, **fields: object) -> Album:
    password = PASSWORD if privacy == Album.Privacy.PASSWORD else ""
    return make_album(owner=owner, privacy=privacy, password=password, **fields)  # type: ignore[arg-type]


def _short(album: Album) -> str:
    return f"/album/{encode_id(album.pk)}"


def _html(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- Who sees an album ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "stranger", "guest"])
def test_a_public_album_shows_its_uploads_to_everyone(owner, stranger, who) -> None:
    album = _album(owner, name="Harbours")
    image = make_image(owner=owner, album=album, title="Dawn over the pier")
    viewer = {"owner": owner, "stranger": stranger, "guest": None}[who]

    response = client_as(viewer).get(album_path(album))

    assert response.status_code == 200
    html = _html(response)
    assert "<h1>Harbours</h1>" in html
    assert "Dawn over the pier" in html
    assert f'data-id="{image.pk}"' in html
    assert '<span data-text="image-count">1</span>' in html


@pytest.mark.parametrize("who", ["stranger", "guest"])
def test_a_private_album_is_a_404_for_anyone_but_its_owner(owner, stranger, who) -> None:
    album = _album(owner, Album.Privacy.PRIVATE, name="Diary")
    make_image(owner=owner, album=album)
    viewer = {"stranger": stranger, "guest": None}[who]

    for url in (
        album_path(album),
        f"{_short(album)}/sub",
        "/album/wrong-slug." + encode_id(album.pk),
    ):
        response = client_as(viewer).get(url)
        assert response.status_code == 404, url
        assert "Diary" not in _html(response)
    assert client_as(owner).get(album_path(album)).status_code == 200


def test_a_private_album_is_shown_to_staff(owner) -> None:
    album = _album(owner, Album.Privacy.PRIVATE, name="Diary")
    staff = make_user("root", is_staff=True)
    assert client_as(staff).get(album_path(album)).status_code == 200


@pytest.mark.parametrize("who", ["stranger", "guest"])
def test_a_link_only_album_opens_by_its_link_but_is_never_listed(owner, stranger, who) -> None:
    album = _album(owner, Album.Privacy.PRIVATE_BUT_LINK, name="Shared with friends")
    make_image(owner=owner, album=album, title="Picnic")
    viewer = {"stranger": stranger, "guest": None}[who]

    response = client_as(viewer).get(album_path(album))

    assert response.status_code == 200
    assert "Picnic" in _html(response)
    assert '<meta name="robots" content="noindex">' in _html(response)
    listed = albums_visible_to(viewer=viewer_for_user(user=viewer)).filter(owner=owner)
    assert album not in listed
    assert album in albums_visible_to(viewer=viewer_for_user(user=owner))


def test_a_password_album_answers_with_chevereto_s_gate_without_naming_the_album(owner) -> None:
    album = _album(owner, Album.Privacy.PASSWORD, name="Family secrets")
    make_image(owner=owner, album=album, title="Grandma")

    response = client_as(None).get(album_path(album))

    assert response.status_code == 200
    html = _html(response)
    assert "<h1>Password required</h1>" in html
    assert 'name="content-password"' in html
    assert 'name="auth_token"' in html
    assert 'method="post"' in html
    assert "Family secrets" not in html and "Grandma" not in html
    assert "no-store" in response["Cache-Control"]


def test_a_wrong_album_password_is_refused_and_the_right_one_opens_it(owner, stranger) -> None:
    album = _album(owner, Album.Privacy.PASSWORD, name="Family")
    make_image(owner=owner, album=album, title="Grandma")
    client = Client(enforce_csrf_checks=True)
    client.force_login(stranger)
    gate = client.get(album_path(album))
    token = re.search(r'name="auth_token" value="([^"]+)"', _html(gate)).group(1)  # type: ignore[union-attr]

    wrong = client.post(album_path(album), {"content-password": "guess", "auth_token": token})
    assert wrong.status_code == 403
    assert "Invalid password" in _html(wrong) and "Password required" in _html(wrong)

    right = client.post(album_path(album), {"content-password": PASSWORD, "auth_token": token})
    assert right.status_code == 303
    assert right["Location"] == album_path(album)
    page = client.get(album_path(album))
    assert page.status_code == 200 and "Grandma" in _html(page)
    assert "no-store" in page["Cache-Control"]


def test_the_password_form_without_its_csrf_token_is_refused(owner) -> None:
    album = _album(owner, Album.Privacy.PASSWORD)
    client = Client(enforce_csrf_checks=True)
    client.get(album_path(album))
    response = client.post(album_path(album), {"content-password": PASSWORD})
    assert response.status_code == 403
    assert client.get(album_path(album)).content.decode().count("Password required") >= 1


def test_the_sub_album_page_of_a_password_album_is_behind_the_gate_too(owner) -> None:
    album = _album(owner, Album.Privacy.PASSWORD)
    client = client_as(None)
    assert "Password required" in _html(client.get(f"{_short(album)}/sub"))
    unlocked = client.post(f"{_short(album)}/sub", {"content-password": PASSWORD})
    assert unlocked.status_code == 303 and unlocked["Location"] == f"{_short(album)}/sub"
    assert client.get(f"{_short(album)}/sub").status_code == 200


# --- URLs and markup --------------------------------------------------------------------------


def test_a_wrong_or_missing_slug_redirects_to_the_canonical_url(owner) -> None:
    album = _album(owner, name="Summer 2024")
    canonical = album_path(album)
    assert canonical == f"/album/summer-2024.{encode_id(album.pk)}"
    for url in (_short(album), f"/album/old-name.{encode_id(album.pk)}"):
        response = client_as(None).get(url + "?sort=date_asc")
        assert response.status_code == 301
        assert response["Location"] == canonical + "?sort=date_asc"


def test_a_hidden_album_never_redirects_so_its_name_does_not_leak(owner) -> None:
    secret = _album(owner, Album.Privacy.PRIVATE, name="Secret plans")
    locked = _album(owner, Album.Privacy.PASSWORD, name="Locked plans")
    assert client_as(None).get(_short(secret)).status_code == 404
    response = client_as(None).get(_short(locked))
    assert response.status_code == 200
    assert "Password required" in _html(response) and "plans" not in _html(response)


def test_an_unknown_album_id_is_a_404() -> None:
    assert client_as(None).get("/album/nothing.zzzzzz").status_code == 404
    assert client_as(None).get("/album/---").status_code == 404


def test_the_album_page_writes_og_url_before_og_title_and_the_cover_as_og_image(owner) -> None:
    album = _album(owner, name="Harbours", description="Boats and piers")
    cover = make_image(owner=owner, album=album)
    Album.objects.filter(pk=album.pk).update(cover=cover)

    html = _html(client_as(None).get(album_path(album)))

    og_url = html.index('<meta property="og:url" content="http://testserver/album/harbours.')
    og_title = html.index('<meta property="og:title" content="Harbours">')
    assert og_url < og_title
    assert f'<meta property="og:image" content="http://testserver/{cover.path}">' in html
    assert '<meta property="og:description" content="Boats and piers">' in html
    assert '<meta name="robots"' not in html


def test_the_album_page_lists_uploads_in_chevereto_s_markup_newest_first(owner) -> None:
    album = _album(owner)
    now = timezone.now()
    older = make_image(owner=owner, album=album, title="Older", created_at=now - timedelta(days=1))
    newer = make_image(owner=owner, album=album, title="Newer", created_at=now)

    html = _html(client_as(None).get(album_path(album)))

    assert re.search(r'<div class="list-item-image[^"]*"[^>]*>\s*<a href="/image/', html)
    assert html.index(f'data-id="{newer.pk}"') < html.index(f'data-id="{older.pk}"')
    oldest_first = _html(client_as(None).get(album_path(album) + "?sort=date_asc"))
    assert oldest_first.index(f'data-id="{older.pk}"') < oldest_first.index(f'data-id="{newer.pk}"')


def test_the_album_page_pages_with_chevereto_s_next_link(owner, monkeypatch) -> None:
    monkeypatch.setattr("web.albums.PER_PAGE", 2)
    album = _album(owner)
    now = timezone.now()
    images = [
        make_image(owner=owner, album=album, created_at=now - timedelta(minutes=i))
        for i in range(3)
    ]
    client = client_as(None)

    first = _html(client.get(album_path(album)))
    link = re.search(r'<a [^>]*data-pagination="next"[^>]*href="([^"]+)"', first)
    assert link is not None
    second = _html(client.get(link.group(1).replace("&amp;", "&")))

    assert f'data-id="{images[2].pk}"' not in first
    assert f'data-id="{images[2].pk}"' in second
    assert 'data-pagination="next"' not in second
    assert client.get(album_path(album) + "?seek=bogus").status_code == 404


def test_nsfw_uploads_are_blurred_for_those_who_did_not_opt_in(owner) -> None:
    album = _album(owner)
    make_image(owner=owner, album=album, nsfw=True)
    assert 'class="image-container blurred"' in _html(client_as(None).get(album_path(album)))
    fan = make_user("fan", show_nsfw=True)
    assert 'class="image-container blurred"' not in _html(client_as(fan).get(album_path(album)))


def test_an_upload_awaiting_moderation_is_left_out_for_strangers(owner) -> None:
    album = _album(owner)
    pending = make_image(owner=owner, album=album, title="Pending one")
    Image.objects.filter(pk=pending.pk).update(is_approved=False)
    assert "Pending one" not in _html(client_as(None).get(album_path(album)))
    assert "Pending one" in _html(client_as(owner).get(album_path(album)))


def test_a_view_of_the_album_page_is_recorded(owner) -> None:
    album = _album(owner)
    client_as(None).get(album_path(album))
    client_as(None).head(album_path(album))
    assert ViewHit.objects.filter(album_id=album.pk).count() == 1


def test_the_like_button_posts_to_like_and_shows_the_current_state(owner, stranger) -> None:
    album = _album(owner)
    client = client_as(stranger)
    html = _html(client.get(album_path(album)))
    assert 'action="/like"' in html and 'name="kind" value="album"' in html
    assert f'name="id" value="{encode_id(album.pk)}"' in html
    assert 'name="action" value="like"' in html

    liked = client.post(
        "/like",
        {"kind": "album", "id": encode_id(album.pk), "action": "like", "next": album_path(album)},
    )
    assert liked.status_code == 303
    assert Like.objects.filter(user=stranger, album=album).exists()
    html = _html(client.get(album_path(album)))
    assert 'name="action" value="unlike"' in html and 'aria-pressed="true"' in html
    assert '<span id="album-like-count">1</span>' in html


def test_guests_are_offered_to_log_in_to_like(owner) -> None:
    album = _album(owner)
    html = _html(client_as(None).get(album_path(album)))
    assert 'action="/like"' not in html and "/login?next=" in html


# --- Sub-albums and the breadcrumb ------------------------------------------------------------


def test_sub_albums_list_only_those_the_viewer_may_see(owner, stranger) -> None:
    album = _album(owner, name="Trips")
    _album(owner, name="Public child", parent=album)
    _album(owner, Album.Privacy.PRIVATE, name="Private child", parent=album)
    _album(owner, Album.Privacy.PRIVATE_BUT_LINK, name="Link child", parent=album)

    for_stranger = _html(client_as(stranger).get(f"{_short(album)}/sub"))
    for_owner = _html(client_as(owner).get(f"{_short(album)}/sub"))
    on_page = _html(client_as(stranger).get(album_path(album)))

    assert "Public child" in for_stranger
    assert "Private child" not in for_stranger and "Link child" not in for_stranger
    assert "Private child" in for_owner and "Link child" in for_owner
    assert "Public child" in on_page and f'href="{_short(album)}/sub"' in on_page


def test_the_breadcrumb_names_the_parents_the_viewer_may_see(owner, stranger) -> None:
    top = _album(owner, name="World")
    hidden = _album(owner, Album.Privacy.PRIVATE, name="Hidden middle", parent=top)
    leaf = _album(owner, name="Leaf", parent=hidden)

    for_stranger = _html(client_as(stranger).get(album_path(leaf)))
    for_owner = _html(client_as(owner).get(album_path(leaf)))

    assert f'href="{album_path(top)}">World</a>' in for_stranger
    assert "Hidden middle" not in for_stranger
    assert f'href="{album_path(hidden)}">Hidden middle</a>' in for_owner


# --- Constant queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "guest"])
def test_the_album_page_runs_the_same_queries_whatever_it_holds(owner, who) -> None:
    parent = _album(owner, name="Parent")
    album = _album(owner, parent=parent)
    make_image(owner=owner, album=album)
    _album(owner, name="Child", parent=album)
    client = client_as(owner if who == "owner" else None)

    def add_more() -> None:
        for _ in range(3):
            make_image(owner=owner, album=album, nsfw=True)
            child = _album(owner, name="Another child", parent=album)
            Album.objects.filter(pk=child.pk).update(cover=make_image(owner=owner, album=child))

    assert_constant_queries(client, album_path(album), add_more=add_more)


def test_the_sub_album_page_runs_the_same_queries_whatever_it_holds(owner) -> None:
    album = _album(owner)
    _album(owner, name="Child", parent=album)

    def add_more() -> None:
        for _ in range(3):
            child = _album(owner, name="Another child", parent=album)
            Album.objects.filter(pk=child.pk).update(cover=make_image(owner=owner, album=child))

    assert_constant_queries(client_as(None), f"{_short(album)}/sub", add_more=add_more)
