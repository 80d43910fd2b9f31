"""The home and upload pages, the upload endpoint behind the widget, and the no-JS form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests import samples
from tests.factories import make_album, make_image
from tests.web.queries import assert_constant_queries
from uploads.models import Category, Image
from uploads.selectors import image_viewer_path

pytestmark = pytest.mark.django_db


def _jpeg(name: str = "harbour.jpg", **size: int) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, samples.jpeg_bytes(**size), content_type="image/jpeg")


def _csrf_client(user: User | None = None) -> tuple[Client, str]:
    """A client that enforces CSRF like a browser, and the token the page gave it."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get("/upload")
    return client, client.cookies["csrftoken"].value


# --- Home -------------------------------------------------------------------------------------


def test_a_guest_sees_the_upload_widget_and_recent_uploads_when_guests_may_upload(
    client: Client, site: SiteSettings, user: User
) -> None:
    image = make_image(owner=user, title="Lighthouse")
    text = client.get("/").content.decode()
    assert 'data-upload data-endpoint="/upload/json"' in text
    assert 'name="source"' in text and "Drag and drop" in text
    assert image_viewer_path(image) in text and 'class="list-item-image' in text
    assert 'href="/explore"' in text


def test_a_guest_is_asked_to_log_in_when_guest_uploads_are_off(
    client: Client, site: SiteSettings, user: User
) -> None:
    site.guest_uploads = False
    site.save()
    image = make_image(owner=user)
    text = client.get("/").content.decode()
    assert "data-upload" not in text and "upload.js" not in text
    assert "Log in or sign up to upload" in text
    assert image_viewer_path(image) in text


def test_home_lists_only_what_a_guest_may_see_even_to_the_owner(
    client_logged_in: Client, user: User
) -> None:
    album = make_album(owner=user, name="Mine", privacy=Album.Privacy.PRIVATE)
    hidden = make_image(owner=user, album=album, title="Secret")
    shown = make_image(owner=user, title="Open")
    text = client_logged_in.get("/").content.decode()
    assert image_viewer_path(shown) in text
    assert image_viewer_path(hidden) not in text
    # The widget offers the user's albums, private ones included: they are the user's own.
    assert f'<option value="{encode_id(album.pk)}">Mine</option>' in text


def test_the_widget_shows_the_limits_before_anything_is_uploaded(
    client: Client, site: SiteSettings
) -> None:
    site.guest_max_filesize_mb = 7
    site.enabled_formats = "jpg,png"
    site.url_uploads = SiteSettings.UrlUploads.ADMINS
    site.save()
    text = client.get("/upload").content.decode()
    assert '<strong data-text="max-size">7 MB</strong>' in text
    assert "JPG, PNG" in text and "WEBP" not in text
    assert "No URL uploads" in text and 'name="urls"' not in text


def test_a_user_sees_their_own_limit_the_url_box_and_the_expiration_choices(
    client_logged_in: Client, site: SiteSettings
) -> None:
    site.user_max_filesize_mb = 50
    site.url_uploads = SiteSettings.UrlUploads.USERS
    site.save()
    Category.objects.create(name="Nature", slug="nature")
    text = client_logged_in.get("/upload").content.decode()
    assert '<strong data-text="max-size">50 MB</strong>' in text
    assert "URL uploads allowed" in text and 'name="urls"' in text
    assert '<option value="PT5M">After 5 minutes</option>' in text
    assert '<option value="P1Y">After 1 year</option>' in text
    assert ">Nature</option>" in text


def test_no_expiration_choice_when_the_site_has_no_expiring_uploads(
    client_logged_in: Client, site: SiteSettings
) -> None:
    site.expirable_uploads = False
    site.save()
    assert 'name="expiration"' not in client_logged_in.get("/upload").content.decode()


def test_upload_page_sends_guests_to_log_in_when_guest_uploads_are_off(
    client: Client, site: SiteSettings
) -> None:
    site.guest_uploads = False
    site.save()
    response = client.get("/upload")
    assert response.status_code == 302
    assert response["Location"].startswith("/login?next=/upload")


def test_home_runs_a_constant_number_of_queries(client_logged_in: Client, user: User) -> None:
    make_image(owner=user)
    make_album(owner=user, name="First")

    def add_more() -> None:
        for n in range(3):
            make_image(owner=user, title=f"More {n}")
            make_album(owner=user, name=f"Album {n}")

    assert_constant_queries(client_logged_in, "/", add_more=add_more)
    assert_constant_queries(Client(), "/", add_more=add_more)


# --- POST /upload/json ------------------------------------------------------------------------


def test_the_json_endpoint_uploads_a_file_and_answers_its_links_and_codes(
    user: User, site: SiteSettings
) -> None:
    client, token = _csrf_client(user)
    album = make_album(owner=user, name="Trips")
    category = Category.objects.create(name="Travel", slug="travel")
    response = client.post(
        "/upload/json",
        {
            "source": _jpeg(width=900, height=600),
            "title": "Quay",
            "description": "At dawn",
            "album_id": encode_id(album.pk),
            "category_id": str(category.pk),
            "tags": "sea, boats",
            "nsfw": "1",
            "expiration": "P1D",
        },
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    image = Image.objects.get()
    assert body["image"]["title"] == "Quay" and image.user == user
    assert image.album == album and image.category == category and image.nsfw
    assert image.expires_at is not None
    by_label = {code["label"]: code for code in body["codes"]}
    assert by_label["Viewer link"]["value"].endswith(image_viewer_path(image))
    assert by_label["Delete link"]["value"].startswith("http://testserver/image/")
    assert {code["group"] for code in body["codes"]} == {"Links", "HTML", "Markdown", "BBCode"}
    assert "[url=" in by_label["BBCode full linked"]["value"]


def test_a_guest_uploads_through_the_json_endpoint_and_gets_a_delete_link(
    site: SiteSettings,
) -> None:
    client, token = _csrf_client()
    response = client.post("/upload/json", {"source": _jpeg()}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert Image.objects.get().user is None
    labels = [code["label"] for code in response.json()["codes"]]
    assert "Delete link" in labels


def test_the_json_endpoint_refuses_a_file_that_is_no_image_in_chevereto_shape(
    user: User,
) -> None:
    client, token = _csrf_client(user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("page.jpg", samples.html_bytes(), content_type="image/jpeg")
    response = client.post("/upload/json", {"source": fake}, HTTP_X_CSRFTOKEN=token)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["status_code"] == response.status_code
    assert set(body["error"]) == {"message", "code"} and body["status_txt"]
    assert not Image.objects.exists()


def test_the_json_endpoint_refuses_a_post_without_the_csrf_token(
    user: User, site: SiteSettings
) -> None:
    for who in (user, None):
        client, _ = _csrf_client(who)
        response = client.post("/upload/json", {"source": _jpeg()})
        assert response.status_code == 403
        assert response.json()["error"]["message"].startswith("CSRF Failed")
    assert not Image.objects.exists()


def test_the_json_endpoint_refuses_guests_when_guest_uploads_are_off(site: SiteSettings) -> None:
    client, token = _csrf_client()
    site.guest_uploads = False
    site.save()
    response = client.post("/upload/json", {"source": _jpeg()}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Guest uploads are disabled"
    assert not Image.objects.exists()


def test_the_json_endpoint_refuses_an_empty_source_and_someone_elses_album(
    user: User, other_user: User
) -> None:
    client, token = _csrf_client(user)
    empty = client.post("/upload/json", {"title": "x"}, HTTP_X_CSRFTOKEN=token)
    assert empty.status_code == 400 and empty.json()["error"]["code"] == 130
    theirs = make_album(owner=other_user)
    response = client.post(
        "/upload/json",
        {"source": _jpeg(), "album_id": encode_id(theirs.pk)},
        HTTP_X_CSRFTOKEN=token,
    )
    assert 400 <= response.status_code < 500
    assert not Image.objects.exists()


def test_the_json_endpoint_takes_base64_like_the_apis(user: User) -> None:
    import base64

    client, token = _csrf_client(user)
    encoded = base64.b64encode(samples.png_bytes(40, 30)).decode()
    response = client.post("/upload/json", {"source": encoded}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.content
    assert Image.objects.get().width == 40


# --- The no-JS form ---------------------------------------------------------------------------


def test_the_form_without_javascript_uploads_the_file_and_shows_its_links(
    user: User, site: SiteSettings
) -> None:
    client, token = _csrf_client(user)
    response = client.post(
        "/upload",
        {"csrfmiddlewaretoken": token, "source": _jpeg(), "title": "Plain form", "urls": ""},
    )
    assert response.status_code == 303
    image = Image.objects.get()
    assert image.title == "Plain form"
    assert response["Location"] == f"/upload/done/{encode_id(image.pk)}"
    page = client.get(response["Location"]).content.decode()
    assert image_viewer_path(image) in page and "Delete link" in page
    assert re.search(r"\[url=http://testserver/image/[^\]]+\]\[img\]", page)
    # Another session does not find the page (it holds the delete link).
    assert Client().get(response["Location"]).status_code == 404


def test_the_form_without_javascript_refuses_without_csrf(user: User) -> None:
    client, _ = _csrf_client(user)
    response = client.post("/upload", {"source": _jpeg()})
    assert response.status_code == 403
    assert not Image.objects.exists()


def test_the_form_without_javascript_shows_a_refusal_with_its_status(
    user: User, site: SiteSettings
) -> None:
    client, token = _csrf_client(user)
    response = client.post(
        "/upload", {"csrfmiddlewaretoken": token, "urls": "", "title": "Kept title"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Empty upload source" in text and 'value="Kept title"' in text


# --- POST /upload/album -----------------------------------------------------------------------


def test_a_user_creates_an_album_from_the_widget(user: User) -> None:
    client, token = _csrf_client(user)
    response = client.post(
        "/upload/album",
        {"name": "Summer", "privacy": "private"},
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    album = Album.objects.get(owner=user)
    assert response.json() == {"id_encoded": encode_id(album.pk), "name": "Summer"}
    assert album.privacy == Album.Privacy.PRIVATE
    bad = client.post(
        "/upload/album", {"name": ""}, HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 400 and bad.json()["error"]["message"]


def test_guests_cannot_create_albums(site: SiteSettings) -> None:
    client, token = _csrf_client()
    response = client.post("/upload/album", {"name": "X"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302 and not Album.objects.exists()


def test_the_home_page_and_its_own_assets_weigh_under_100_kb(
    client_logged_in: Client, user: User
) -> None:
    from django.contrib.staticfiles import finders

    for n in range(24):
        make_image(owner=user, title=f"Picture {n}")
    html = client_logged_in.get("/").content
    assets = ["css/site.css", "js/site.js", "css/upload.css", "js/upload.js"]
    for asset in assets:
        assert f"/static/{asset}".encode() in html
    total = len(html) + sum(Path(finders.find(a)).stat().st_size for a in assets)
    assert total < 100_000, total


def test_the_json_endpoint_refuses_a_body_over_the_guest_limit_before_reading_it(
    site: SiteSettings,
) -> None:
    import os

    from django.core.files.uploadedfile import SimpleUploadedFile

    site.guest_max_filesize_mb = 1
    site.save()
    client, token = _csrf_client()
    big = SimpleUploadedFile("big.jpg", os.urandom(2 * 1024 * 1024), content_type="image/jpeg")
    response = client.post("/upload/json", {"source": big}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 413
    assert response.json()["status_code"] == 413
    assert not Image.objects.exists()
