"""API V1.1 driven the way real Chevereto, ImgBB and ShareX clients drive it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from accounts.models import User
from chevereto.core.encoding import decode_id
from tests import samples
from tests.api_v1.conftest import b64
from tests.conftest import files_under
from uploads.models import Image

pytestmark = pytest.mark.django_db


def fetch(client: Client, url: str) -> bytes:
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, (url, response.status_code)
    assert response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_chevereto_client_uploads_a_file_as_source_with_key_and_reads_the_urls(
    client: Client, api_key: str, big_jpeg: bytes
) -> None:
    response = client.post(
        "/api/1/upload",
        {"key": api_key, "format": "json", "source": io.BytesIO(big_jpeg)},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == 200 and body["status_txt"] == "OK"
    assert body["success"] == {"message": "image uploaded", "code": 200}
    image = body["image"]
    assert fetch(client, image["url"]) == big_jpeg
    viewer = client.get(image["url_viewer"].removeprefix("http://testserver"))
    assert viewer.status_code == 200 and image["url"].encode() in viewer.content
    thumb = PILImage.open(io.BytesIO(fetch(client, image["thumb"]["url"])))
    assert thumb.size == (320, 320) and thumb.format == "JPEG"
    medium = PILImage.open(io.BytesIO(fetch(client, image["medium"]["url"])))
    assert medium.size == (500, 375)
    assert image["width"] == 1200 and image["height"] == 900 and image["size"] == len(big_jpeg)
    assert image["mime"] == "image/jpeg" and image["extension"] == "jpg"
    assert decode_id(image["id_encoded"]) == Image.objects.get().pk


def test_the_chevereto_image_object_has_every_field_of_the_v4_example(
    client: Client, api_key: str, big_jpeg: bytes
) -> None:
    image = client.post(
        "/api/1/upload", {"source": io.BytesIO(big_jpeg)}, HTTP_X_API_KEY=api_key
    ).json()["image"]
    expected = {
        "name", "extension", "size", "width", "height", "date", "date_gmt", "title", "tags",
        "description", "nsfw", "storage_mode", "md5", "source_md5", "original_filename",
        "original_exifdata", "views", "category_id", "chain", "thumb_size", "medium_size",
        "frame_size", "expiration_date_gmt", "likes", "is_animated", "is_approved", "is_360",
        "duration", "type", "tags_string", "file", "id_encoded", "filename", "mime", "url",
        "ratio", "size_formatted", "frame", "image", "thumb", "url_frame", "medium",
        "duration_time", "url_viewer", "path_viewer", "url_short", "display_url",
        "display_width", "display_height", "views_label", "likes_label", "how_long_ago",
        "date_fixed_peer", "title_truncated", "title_truncated_html", "is_use_loader",
        "display_title", "delete_url",
    }  # fmt: skip
    assert expected <= set(image)
    assert image["type"] == "image" and image["file"] == {"resource": {"type": "url"}}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", image["date_gmt"])
    assert re.fullmatch(
        r"http://testserver/image/[A-Za-z0-9]+/delete/[0-9a-f]{48}", image["delete_url"]
    )


def test_an_imgbb_client_sends_base64_as_image_with_the_key_in_the_query(
    client: Client, api_key: str, big_jpeg: bytes
) -> None:
    response = client.post(
        f"/api/1/upload?key={api_key}",
        {"image": b64(big_jpeg), "name": "holiday", "expiration": "600"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["status"] == 200
    data = body["data"]
    assert data["title"] == "holiday"
    assert data["size"] == len(big_jpeg) and data["expiration"] == 600
    assert decode_id(data["id"]) == Image.objects.get().pk
    assert fetch(client, data["url"]) == big_jpeg
    assert PILImage.open(io.BytesIO(fetch(client, data["display_url"]))).width == 500
    assert PILImage.open(io.BytesIO(fetch(client, data["thumb"]["url"]))).size == (320, 320)
    assert PILImage.open(io.BytesIO(fetch(client, data["medium"]["url"]))).width == 500
    assert data["delete_url"].startswith("http://testserver/image/")
    saved = Image.objects.get()
    assert abs((saved.expires_at - saved.created_at).total_seconds() - 600) < 1


def test_an_imgbb_client_sends_a_data_uri_and_a_multipart_image(
    client: Client, api_key: str, small_png: bytes
) -> None:
    as_uri = client.post(
        f"/api/1/upload?key={api_key}", {"image": "data:image/png;base64," + b64(small_png)}
    )
    assert as_uri.status_code == 200 and as_uri.json()["data"]["image"]["mime"] == "image/png"
    gif = samples.gif_bytes(30, 20, frames=3)
    as_file = client.post(f"/api/1/upload?key={api_key}", {"image": io.BytesIO(gif)})
    assert as_file.status_code == 200
    assert fetch(client, as_file.json()["data"]["url"]) == gif


def test_an_imgbb_client_sends_a_url_as_image(
    client: Client, admin_key: str, remote: tuple, big_jpeg: bytes
) -> None:
    base, routes = remote
    routes["/photos/sunset.jpg"] = (200, {"Content-Type": "image/jpeg"}, big_jpeg)
    response = client.post(
        f"/api/1/upload?key={admin_key}", {"image": f"{base}/photos/sunset.jpg", "expiration": "60"}
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["expiration"] == 60
    assert data["image"]["filename"] == "sunset.jpg"
    assert fetch(client, data["url"]) == big_jpeg


def test_a_get_request_with_a_url_source_uploads(
    client: Client, admin_key: str, remote: tuple, small_png: bytes
) -> None:
    base, routes = remote
    routes["/a.png"] = (200, {"Content-Type": "image/png"}, small_png)
    response = client.get("/api/1/upload", {"key": admin_key, "source": f"{base}/a.png"})
    assert response.status_code == 200
    assert fetch(client, response.json()["image"]["url"]) == small_png


def test_a_file_with_no_extension_and_a_generic_type_is_recognised_by_content(
    client: Client, api_key: str, small_png: bytes
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("screenshot", small_png, content_type="application/octet-stream")
    response = client.post("/api/1/upload", {"source": upload}, HTTP_X_API_KEY=api_key)
    assert response.status_code == 200
    image = response.json()["image"]
    assert image["mime"] == "image/png" and image["filename"] == "screenshot.png"


def test_format_txt_returns_the_direct_url_as_plain_text(
    client: Client, api_key: str, small_png: bytes
) -> None:
    response = client.post(
        "/api/1/upload", {"source": io.BytesIO(small_png), "format": "txt"}, HTTP_X_API_KEY=api_key
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    url = response.content.decode()
    assert re.fullmatch(r"http://testserver/images/\d{4}/\d\d/\d\d/[\w.-]+\.png", url)
    assert fetch(client, url) == small_png


def test_format_redirect_sends_the_client_to_the_viewer(
    client: Client, api_key: str, small_png: bytes
) -> None:
    response = client.post(
        "/api/1/upload",
        {"source": io.BytesIO(small_png), "format": "redirect"},
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_the_api_answers_at_every_path_chevereto_clients_use(
    client: Client, api_key: str, small_png: bytes
) -> None:
    for path in ["/api/1/upload/", "/api/1/upload", "/1/upload"]:
        data = samples.png_bytes(41, 30, mode="RGB") if path == "/1/upload" else small_png
        response = client.post(path, {"source": io.BytesIO(data + b"")}, HTTP_X_API_KEY=api_key)
        assert response.status_code == 200, path


def test_the_worker_makes_the_derivatives_once_the_upload_commits(
    client: Client,
    api_key: str,
    big_jpeg: bytes,
    media_root: Path,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/1/upload", {"source": io.BytesIO(big_jpeg)}, HTTP_X_API_KEY=api_key)
    saved = Image.objects.get()
    assert saved.chain == Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
    assert saved.thumb_size > 0 and saved.medium_size > 0
    assert len(files_under(media_root)) == 3


def test_a_guest_uploads_with_the_guest_key(client: Client, small_png: bytes, site) -> None:
    response = client.post(
        "/api/1/upload", {"key": site.guest_api_key, "source": io.BytesIO(small_png)}
    )
    assert response.status_code == 200
    assert Image.objects.get().user is None


def test_the_same_file_twice_from_one_user_returns_the_existing_upload(
    client: Client, api_key: str, small_png: bytes
) -> None:
    first = client.post(
        "/api/1/upload", {"source": io.BytesIO(small_png)}, HTTP_X_API_KEY=api_key
    ).json()["image"]
    second = client.post(
        "/api/1/upload", {"source": io.BytesIO(small_png)}, HTTP_X_API_KEY=api_key
    ).json()["image"]
    assert first["id_encoded"] == second["id_encoded"]
    assert Image.objects.count() == 1


def test_optional_parameters_are_applied(
    client: Client, user: User, api_key: str, big_jpeg: bytes
) -> None:
    from albums.models import Album
    from chevereto.core.encoding import encode_id
    from uploads.models import Category

    album = Album.objects.create(owner=user, name="Trips")
    category = Category.objects.create(name="Nature", slug="nature")
    response = client.post(
        "/api/1/upload",
        {
            "source": io.BytesIO(big_jpeg),
            "title": "A  sunny   day",
            "description": "At the beach",
            "tags": "sun, beach, Sun",
            "album_id": encode_id(album.pk),
            "category_id": str(category.pk),
            "width": "600",
            "nsfw": "1",
            "expiration": "P1D",
        },
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 200, response.content
    image = response.json()["image"]
    assert image["title"] == "A sunny day" and image["description"] == "At the beach"
    assert sorted(image["tags"]) == ["beach", "sun"]
    assert image["nsfw"] == 1 and image["category_id"] == category.pk
    assert (image["width"], image["height"]) == (600, 450)
    saved = Image.objects.get()
    assert saved.album == album
    assert (
        timezone.timedelta(hours=23)
        < saved.expires_at - saved.created_at
        <= timezone.timedelta(days=1)
    )
    stored = PILImage.open(io.BytesIO(fetch(client, image["url"])))
    assert stored.size == (600, 450)


def test_an_upload_into_a_private_album_gets_a_random_name(
    client: Client, user: User, api_key: str, small_png: bytes
) -> None:
    from albums.models import Album
    from chevereto.core.encoding import encode_id

    album = Album.objects.create(owner=user, name="Secret", privacy="private")
    upload = io.BytesIO(small_png)
    upload.name = "my-passport.png"
    image = client.post(
        "/api/1/upload", {"source": upload, "album_id": encode_id(album.pk)}, HTTP_X_API_KEY=api_key
    ).json()["image"]
    assert "passport" not in image["url"]


def test_the_delete_link_removes_the_upload_and_all_its_files(
    client: Client,
    api_key: str,
    big_jpeg: bytes,
    media_root: Path,
    django_capture_on_commit_callbacks,
) -> None:
    image = client.post(
        "/api/1/upload", {"source": io.BytesIO(big_jpeg)}, HTTP_X_API_KEY=api_key
    ).json()["image"]
    fetch(client, image["thumb"]["url"])
    fetch(client, image["medium"]["url"])
    assert len(files_under(media_root)) == 3
    delete_path = image["delete_url"].removeprefix("http://testserver")
    confirm = client.get(delete_path)
    assert confirm.status_code == 200 and b'<form method="post"' in confirm.content
    wrong = client.post(delete_path[:-4] + "0000")
    assert wrong.status_code == 404 and Image.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.post(delete_path)
    assert deleted.status_code == 200
    assert Image.objects.count() == 0
    assert files_under(media_root) == []
    assert client.get(image["url"].removeprefix("http://testserver")).status_code == 404


@pytest.mark.parametrize(
    ("naming", "pattern"),
    [
        ("original", r"/images/\d{4}/\d\d/\d\d/Sunset-at-sea\.png$"),
        ("random", r"/images/\d{4}/\d\d/\d\d/[A-Za-z0-9]{16}\.png$"),
        ("mixed", r"/images/\d{4}/\d\d/\d\d/Sunset-at-sea-[A-Za-z0-9]{8}\.png$"),
        ("id", r"/images/\d{4}/\d\d/\d\d/(?P<id>[A-Za-z0-9]+)\.png$"),
    ],
)
def test_file_naming_follows_the_site_setting(
    client: Client, api_key: str, site, small_png: bytes, naming: str, pattern: str
) -> None:
    site.file_naming = naming
    site.save()
    source = io.BytesIO(small_png)
    source.name = "Sunset at sea.png"
    image = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=api_key).json()["image"]
    match = re.search(pattern, image["url"])
    assert match, image["url"]
    if naming == "id":
        assert match.group("id") == image["id_encoded"]
    assert fetch(client, image["url"]) == small_png


def test_an_admin_dates_an_upload_with_the_photo_date(client: Client, admin_key: str) -> None:
    from datetime import datetime

    photo = samples.jpeg_bytes(80, 60, date_taken=datetime(2019, 5, 17, 8, 30, 0))
    image = client.post(
        "/api/1/upload",
        {"source": io.BytesIO(photo), "use_file_date": "1"},
        HTTP_X_API_KEY=admin_key,
    ).json()["image"]
    assert image["date"].startswith("2019-05-17")
