"""The viewer page of one upload: Chevereto's head tags, oEmbed, what it shows, the owner's
edit and remove pages, and a constant number of queries."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from albums.selectors import viewer_for_user
from chevereto.core.encoding import encode_id
from social.services import like_add
from tests import samples
from tests.factories import make_album, make_image, make_user
from tests.web.queries import assert_constant_queries
from uploads.models import Category, Image, Tag
from uploads.selectors import image_viewer_path

pytestmark = pytest.mark.django_db

META = re.compile(r'<meta property="([^"]+)" content="([^"]*)">')


def page(client: Client, image: Image) -> str:
    response = client.get(image_viewer_path(image))
    assert response.status_code == 200
    return response.content.decode()


def og_tags(html: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in META.findall(html) if not name.startswith("og:site")]


def upload_video(client: Client, key: str) -> dict:
    source = io.BytesIO(samples.mp4_bytes(96, 64, seconds=2.0))
    source.name = "Boat clip.mp4"
    response = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    return response.json()["image"]


def oembed(client: Client, url: str, **extra: str):
    return client.get("/oembed/?" + urlencode({"url": url, **extra}))


# --- The head: Chevereto's Open Graph order, Twitter cards, oEmbed discovery ---------------


def test_the_open_graph_tags_come_in_chevereto_order_with_the_original_file(
    client: Client, user: User
) -> None:
    image = make_image(owner=user, title="Harbour at dawn")
    html = page(client, image)
    tags = og_tags(html)
    names = [name for name, _ in tags if name.startswith("og:")][:4]
    assert names == ["og:type", "og:title", "og:image", "og:url"]
    values = dict(tags)
    assert values["og:type"] == "image"
    assert values["og:title"] == "Harbour at dawn"
    assert values["og:image"] == f"http://testserver/{image.path}"
    assert values["og:url"] == f"http://testserver{image_viewer_path(image)}"
    # Each written exactly as Chevereto writes it: property first, then content.
    assert f'<meta property="og:image" content="http://testserver/{image.path}">' in html


def test_a_video_page_carries_its_frame_as_og_image_and_the_file_as_og_video(
    client: Client, api_key: str
) -> None:
    video = upload_video(client, api_key)
    html = client.get(video["url_viewer"].removeprefix("http://testserver")).content.decode()
    tags = og_tags(html)
    names = [name for name, _ in tags][:7]
    assert names == [
        "og:type",
        "og:title",
        "og:image",
        "og:video",
        "video:width",
        "video:height",
        "og:url",
    ]
    values = dict(tags)
    assert values["og:type"] == "video"
    assert values["og:image"] == video["frame"]["url"]
    assert values["og:video"] == video["url"]
    assert (values["video:width"], values["video:height"]) == ("96", "64")
    assert '<video controls preload="metadata" poster="' + video["frame"]["url"] in html
    assert '<meta name="twitter:card" content="player">' in html
    # The player card frames the file: the viewer page refuses to be framed.
    assert f'<meta name="twitter:player" content="{video["url"]}">' in html


def test_twitter_card_description_canonical_and_oembed_discovery_are_in_the_head(
    client: Client, user: User
) -> None:
    image = make_image(owner=user, title="Harbour at dawn")
    Image.objects.filter(pk=image.pk).update(description="Boats <b>at rest</b>")
    html = page(client, image)
    viewer_url = f"http://testserver{image_viewer_path(image)}"
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<meta name="twitter:title" content="Harbour at dawn">' in html
    assert '<meta name="twitter:image" content="http://testserver/' in html
    assert '<meta name="description" content="Boats &lt;b&gt;at rest&lt;/b&gt;">' in html
    assert f'<link rel="canonical" href="{viewer_url}">' in html
    discovery = (
        '<link rel="alternate" type="application/json+oembed" '
        f'href="http://testserver/oembed/?url={quote(viewer_url, safe="")}&amp;format=json"'
    )
    assert discovery in html


# --- oEmbed ---------------------------------------------------------------------------------


def test_oembed_answers_a_photo_for_a_picture(client: Client, user: User) -> None:
    image = make_image(owner=user, title="Harbour at dawn", thumb_width=32, thumb_height=32)
    answer = oembed(client, f"http://testserver{image_viewer_path(image)}", format="json")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert "public" in answer["Cache-Control"]
    data = answer.json()
    assert data["version"] == "1.0" and data["type"] == "photo"
    assert data["url"] == f"http://testserver/{image.path}"
    assert (data["width"], data["height"]) == (600, 400)
    assert data["title"] == "Harbour at dawn"
    assert data["author_name"] == "alice" and data["author_url"] == "http://testserver/alice"
    assert data["provider_url"] == "http://testserver/"
    assert data["thumbnail_url"].startswith("http://testserver/images/")
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (32, 32)


def test_oembed_picks_the_medium_size_when_the_original_is_wider_than_maxwidth(
    client: Client, user: User
) -> None:
    image = make_image(owner=user)
    short = f"http://testserver/image/{encode_id(image.pk)}"
    data = oembed(client, short, maxwidth="550").json()
    assert ".md." in data["url"] and (data["width"], data["height"]) == (500, 333)
    tiny = oembed(client, short, maxwidth="100").json()
    assert tiny["width"] == 100 and tiny["height"] == 67


def test_oembed_answers_a_video_element_for_a_video(client: Client, api_key: str) -> None:
    video = upload_video(client, api_key)
    data = oembed(client, video["url_viewer"], maxwidth="48").json()
    assert data["type"] == "video" and (data["width"], data["height"]) == (48, 32)
    assert data["html"].startswith('<video controls preload="metadata" width="48" height="32"')
    assert f'<source src="{video["url"]}" type="video/mp4">' in data["html"]
    assert "<iframe" not in data["html"]


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/image/harbour.abc",
        "http://testserver/album/abc",
        "javascript:alert(1)",
        "not a url",
        "",
    ],
)
def test_oembed_is_a_404_for_urls_of_other_sites_and_garbage(
    client: Client, user: User, url: str
) -> None:
    make_image(owner=user)
    assert oembed(client, url).status_code == 404


def test_oembed_is_a_404_for_an_upload_a_guest_cannot_see_even_for_its_owner(
    client_logged_in: Client, user: User
) -> None:
    private = make_album(owner=user, privacy=Album.Privacy.PRIVATE)
    hidden = make_image(owner=user, album=private)
    moderated = make_image(owner=user, is_approved=False)
    expired = make_image(owner=user, expires_at=timezone.now() - timedelta(minutes=1))
    for image in (hidden, moderated):
        assert client_logged_in.get(image_viewer_path(image)).status_code == 200
    for image in (hidden, moderated, expired):
        url = f"http://testserver/image/{encode_id(image.pk)}"
        assert oembed(client_logged_in, url).status_code == 404


def test_oembed_in_xml_is_not_implemented(client: Client, user: User) -> None:
    image = make_image(owner=user)
    answer = oembed(client, f"http://testserver{image_viewer_path(image)}", format="xml")
    assert answer.status_code == 501


# --- What the page shows --------------------------------------------------------------------


def test_the_page_shows_the_medium_linked_to_the_original_and_the_details(
    client: Client, user: User
) -> None:
    category = Category.objects.create(name="Sea", slug="sea")
    album = make_album(owner=user, name="Coast")
    image = make_image(owner=user, album=album, category=category)
    Image.objects.filter(pk=image.pk).update(description="Line one\nLine <two>", views=7)
    image.tags.set([Tag.objects.create(name="boats"), Tag.objects.create(name="dawn light")])
    html = page(client, image)
    assert f'<a href="http://testserver/{image.path}"' in html
    assert ".md.png" in html
    assert "<h1>Harbour at dawn</h1>" in html
    assert "<p>Line one<br>Line &lt;two&gt;</p>" in html
    assert 'href="/alice"' in html
    assert f'href="/album/coast.{encode_id(album.pk)}"' in html
    assert 'href="/category/sea"' in html
    assert 'href="/tag/boats"' in html and 'href="/tag/dawn%20light"' in html
    assert "600×400" in html and "<dd>7</dd>" in html
    assert 'data-copy="#code-0"' in html
    assert "/delete/" not in html  # the delete link is the uploader's secret


def test_a_guest_upload_says_guest_and_a_guest_gets_a_log_in_link_to_like(client: Client) -> None:
    image = make_image(owner=None)
    html = page(client, image)
    assert "<span>Guest</span>" in html
    assert "Log in to like" in html and 'action="/like"' not in html


def test_the_exif_summary_shows_the_camera_but_never_the_location(
    client: Client, user: User
) -> None:
    image = make_image(owner=user)
    Image.objects.filter(pk=image.pk).update(
        exif={
            "Make": "Canon",
            "Model": "Canon EOS R5",
            "LensModel": "RF 24-70mm",
            "ExposureTime": 0.004,
            "FNumber": 2.8,
            "ISOSpeedRatings": 200,
            "FocalLength": 35.0,
            "DateTimeOriginal": "2024:05:06 07:08:09",
            "GPSLatitude": [48.0, 51.0, 24.0],
            "GPSInfo": {"1": "N"},
            "Artist": "Someone",
        }
    )
    html = page(client, image)
    for shown in ("Canon EOS R5", "RF 24-70mm", "1/250 s", "f/2.8", "200", "35 mm", "2024-05-06"):
        assert shown in html
    assert "GPS" not in html and "51.0" not in html and "Someone" not in html


def test_a_page_without_exif_has_no_camera_section(client: Client, user: User) -> None:
    assert 'id="exif-title"' not in page(client, make_image(owner=user))


def test_the_like_button_says_liked_for_someone_who_likes_it(
    client: Client, user: User, other_user: User
) -> None:
    image = make_image(owner=user)
    like_add(user=other_user, image=image, viewer=viewer_for_user(user=other_user))
    client.force_login(other_user)
    html = page(client, image)
    assert '<input type="hidden" name="action" value="unlike">' in html
    assert 'aria-pressed="true">Liked</button>' in html
    assert '<dd id="like-count">1</dd>' in html
    client.force_login(user)
    assert 'aria-pressed="false">Like</button>' in page(client, image)


def test_previous_and_next_skip_uploads_of_the_album_the_viewer_cannot_see(
    client: Client, user: User
) -> None:
    album = make_album(owner=user, name="Coast")
    start = timezone.now() - timedelta(hours=1)
    first, hidden, middle, last = (
        make_image(
            owner=user, album=album, title=f"Shot {n}", created_at=start + timedelta(minutes=n)
        )
        for n in range(4)
    )
    Image.objects.filter(pk=hidden.pk).update(is_approved=False)
    html = page(client, middle)
    assert f'rel="prev" href="{image_viewer_path(first)}"' in html
    assert f'rel="next" href="{image_viewer_path(last)}"' in html
    first_page = page(client, first)
    assert 'rel="prev"' not in first_page
    assert f'rel="next" href="{image_viewer_path(middle)}"' in first_page
    client.force_login(user)  # the owner sees the upload awaiting moderation
    assert f'rel="prev" href="{image_viewer_path(hidden)}"' in page(client, middle)


def test_an_upload_outside_albums_has_no_previous_or_next(client: Client, user: User) -> None:
    assert "viewer-neighbours" not in page(client, make_image(owner=user))


def test_the_viewer_runs_a_constant_number_of_queries(client: Client, user: User) -> None:
    album = make_album(owner=user, name="Coast")
    category = Category.objects.create(name="Sea", slug="sea")
    start = timezone.now() - timedelta(hours=1)
    make_image(owner=user, album=album, created_at=start)
    image = make_image(owner=user, album=album, category=category)
    image.tags.set([Tag.objects.create(name="boats")])
    client.force_login(make_user("carol"))

    def add_more() -> None:
        for n in range(5):
            make_image(owner=user, album=album, created_at=start + timedelta(seconds=n))
            make_image(owner=user, album=album, created_at=timezone.now() + timedelta(minutes=n))
            image.tags.add(Tag.objects.create(name=f"tag{n}"))

    count = assert_constant_queries(client, image_viewer_path(image), add_more=add_more)
    assert count <= 14, count


# --- The owner's tools ----------------------------------------------------------------------


def test_the_owner_sees_edit_and_delete_and_others_do_not(
    client: Client, user: User, other_user: User
) -> None:
    image = make_image(owner=user)
    edit = f'href="/image/{encode_id(image.pk)}/edit"'
    client.force_login(user)
    assert edit in page(client, image)
    client.force_login(other_user)
    assert edit not in page(client, image)


def test_the_owner_edits_title_description_tags_category_album_and_nsfw(
    client_logged_in: Client, user: User
) -> None:
    image = make_image(owner=user)
    album = make_album(owner=user, name="Coast")
    category = Category.objects.create(name="Sea", slug="sea")
    url = f"/image/{encode_id(image.pk)}/edit"
    form = client_logged_in.get(url)
    assert form.status_code == 200 and 'name="title"' in form.content.decode()
    answer = client_logged_in.post(
        url,
        {
            "title": "Boats at noon",
            "description": "Hot",
            "tags": "boats, noon",
            "category_id": str(category.pk),
            "album_id": encode_id(album.pk),
            "nsfw": "1",
        },
    )
    image.refresh_from_db()
    assert answer.status_code == 303 and answer["Location"] == image_viewer_path(image)
    assert image.title == "Boats at noon" and image.description == "Hot" and image.nsfw
    assert image.category == category and image.album == album
    assert sorted(image.tags.values_list("name", flat=True)) == ["boats", "noon"]


def test_a_bad_edit_shows_the_form_again_with_a_400(client_logged_in: Client, user: User) -> None:
    image = make_image(owner=user)
    answer = client_logged_in.post(
        f"/image/{encode_id(image.pk)}/edit", {"title": "x" * 101, "tags": "a"}
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'role="alert"' in html and 'value="' + "x" * 101 + '"' in html
    image.refresh_from_db()
    assert image.title == "Harbour at dawn"


def test_someone_elses_album_is_refused_with_a_400(
    client_logged_in: Client, user: User, other_user: User
) -> None:
    image = make_image(owner=user)
    theirs = make_album(owner=other_user)
    answer = client_logged_in.post(
        f"/image/{encode_id(image.pk)}/edit", {"title": "t", "album_id": encode_id(theirs.pk)}
    )
    assert answer.status_code == 400
    image.refresh_from_db()
    assert image.album is None


def test_the_owner_removes_an_upload_after_confirming(client_logged_in: Client, user: User) -> None:
    image = make_image(owner=user)
    url = f"/image/{encode_id(image.pk)}/remove"
    confirm = client_logged_in.get(url)
    assert confirm.status_code == 200 and "Delete this upload?" in confirm.content.decode()
    answer = client_logged_in.post(url)
    assert answer.status_code == 303 and answer["Location"] == "/alice"
    assert not Image.objects.filter(pk=image.pk).exists()


def test_another_user_can_neither_edit_nor_remove(
    client: Client, user: User, other_user: User
) -> None:
    image = make_image(owner=user)
    client.force_login(other_user)
    encoded = encode_id(image.pk)
    assert client.get(f"/image/{encoded}/edit").status_code == 404
    assert client.post(f"/image/{encoded}/edit", {"title": "Mine"}).status_code == 404
    assert client.get(f"/image/{encoded}/remove").status_code == 404
    assert client.post(f"/image/{encoded}/remove").status_code == 404
    image.refresh_from_db()
    assert image.title == "Harbour at dawn"


def test_a_guest_is_sent_to_log_in_before_editing(client: Client, user: User) -> None:
    image = make_image(owner=user)
    answer = client.get(f"/image/{encode_id(image.pk)}/edit")
    assert answer.status_code == 302 and "/login" in answer["Location"]


def test_staff_may_remove_anyones_upload_and_land_on_the_owners_profile(
    client: Client, user: User, admin_user: User
) -> None:
    image = make_image(owner=user)
    client.force_login(admin_user)
    answer = client.post(f"/image/{encode_id(image.pk)}/remove")
    assert answer.status_code == 303 and answer["Location"] == "/alice"
    assert not Image.objects.filter(pk=image.pk).exists()


def test_oembed_answers_without_the_trailing_slash_and_for_the_short_url(
    client: Client, user: User
) -> None:
    image = make_image(owner=user)
    short = f"http://testserver/image/{encode_id(image.pk)}"
    answer = client.get("/oembed?" + urlencode({"url": short}))
    assert answer.status_code == 200 and answer.json()["type"] == "photo"


# --- The delete link ------------------------------------------------------------------------


def test_the_delete_link_asks_then_deletes_and_the_viewer_is_gone(client: Client) -> None:
    from tests.uploads.test_visibility import delete_url, make_upload

    upload = make_upload(owner=None)
    confirm = client.get(delete_url(upload))
    assert confirm.status_code == 200 and "Delete this upload?" in confirm.content.decode()
    done = client.post(delete_url(upload))
    assert done.status_code == 200 and "<h1>Deleted</h1>" in done.content.decode()
    assert client.get(f"/image/{encode_id(upload.image.pk)}").status_code == 404
