"""Every kind of bad input gets Chevereto's error shape and leaves nothing behind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests import samples
from tests.api_v1.conftest import b64
from tests.conftest import files_under
from uploads.models import Image

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_left_behind(media_root: Path, settings: LazySettings) -> Iterator[None]:
    yield
    assert Image.objects.count() == 0
    assert files_under(media_root) == []
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def remove_uploads(media_root: Path) -> None:
    """Clean up the uploads a test accepted on purpose (rows and files)."""
    for image in Image.objects.all():
        (media_root / image.path).unlink()
    Image.objects.all().delete()


def assert_error(response, *, status: int, code: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status_code"] == status
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["status_txt"]


def post_file(client: Client, key: str, data: bytes, name: str = "x.jpg", **extra: str):
    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return client.post("/api/1/upload", {"source": upload, **extra}, HTTP_X_API_KEY=key)


def test_a_missing_key_is_refused(client: Client, small_png: bytes) -> None:
    assert_error(
        client.post("/api/1/upload", {"source": io.BytesIO(small_png)}), status=401, code=100
    )


def test_an_invalid_key_is_refused(client: Client, small_png: bytes) -> None:
    assert_error(post_file(client, "chv_abc_123", small_png), status=401, code=100)
    assert_error(
        client.post("/api/1/upload", {"key": "wrong", "source": io.BytesIO(small_png)}),
        status=401,
        code=100,
    )


def test_a_revoked_key_is_refused(
    client: Client, user: User, api_key: str, small_png: bytes
) -> None:
    from accounts.services import api_key_revoke

    api_key_revoke(user=user)
    assert_error(post_file(client, api_key, small_png), status=401, code=100)


def test_an_empty_source_is_refused(client: Client, api_key: str) -> None:
    assert_error(
        client.post("/api/1/upload", {"source": ""}, HTTP_X_API_KEY=api_key), status=400, code=130
    )
    assert_error(client.post("/api/1/upload", {}, HTTP_X_API_KEY=api_key), status=400, code=130)


def test_base64_sent_by_get_is_refused(client: Client, api_key: str, small_png: bytes) -> None:
    assert_error(
        client.get("/api/1/upload", {"key": api_key, "source": b64(small_png)}),
        status=400,
        code=130,
    )


@pytest.mark.parametrize(
    "garbage", ["!!!not base64!!!", "abcde", "data:image/png;base64,@@@@", "data:nonsense"]
)
def test_garbage_base64_is_refused(client: Client, api_key: str, garbage: str) -> None:
    assert_error(
        client.post("/api/1/upload", {"source": garbage}, HTTP_X_API_KEY=api_key),
        status=400,
        code=120,
    )


def test_a_truncated_jpeg_is_refused(client: Client, api_key: str) -> None:
    assert_error(post_file(client, api_key, samples.truncated_jpeg_bytes()), status=400, code=400)


def test_a_zero_byte_file_is_refused(client: Client, api_key: str) -> None:
    assert_error(post_file(client, api_key, b""), status=400, code=130)


def test_a_text_file_named_jpg_is_refused(client: Client, api_key: str) -> None:
    assert_error(post_file(client, api_key, b"hello, I am text\n" * 20), status=415, code=613)


@pytest.mark.parametrize("payload", ["svg", "html"])
def test_svg_and_html_disguised_as_images_are_refused(
    client: Client, api_key: str, payload: str
) -> None:
    data = samples.svg_bytes() if payload == "svg" else samples.html_bytes()
    assert_error(post_file(client, api_key, data, name="cute.png"), status=415, code=613)
    assert_error(
        client.post("/api/1/upload", {"source": b64(data)}, HTTP_X_API_KEY=api_key),
        status=415,
        code=613,
    )


def test_a_png_decompression_bomb_is_refused(client: Client, api_key: str) -> None:
    assert_error(
        post_file(client, api_key, samples.png_bomb_bytes(), name="bomb.png"), status=400, code=400
    )


def test_a_file_one_byte_over_the_limit_is_refused(
    client: Client, api_key: str, site: SiteSettings
) -> None:
    site.user_max_filesize_mb = 1
    site.save()
    data = samples.jpeg_bytes(64, 48)
    padded = data + b"\0" * (1024 * 1024 + 1 - len(data))
    assert_error(post_file(client, api_key, padded), status=413, code=400)
    assert_error(
        client.post("/api/1/upload", {"source": b64(padded)}, HTTP_X_API_KEY=api_key),
        status=413,
        code=400,
    )


def test_an_oversized_body_is_refused_before_it_is_read(
    client: Client, api_key: str, site: SiteSettings
) -> None:
    site.user_max_filesize_mb = 1
    site.save()
    response = client.post(
        "/api/1/upload",
        data=b"x" * (2 * 1024 * 1024),
        content_type="application/octet-stream",
        HTTP_X_API_KEY=api_key,
    )
    assert_error(response, status=413, code=400)


def test_a_disabled_format_is_refused(
    client: Client, api_key: str, site: SiteSettings, small_png: bytes
) -> None:
    site.enabled_formats = "jpg"
    site.save()
    assert_error(post_file(client, api_key, small_png, name="a.png"), status=415, code=614)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x.png",
        "http://10.1.2.3/x.png",
        "http://localhost/x.png",
        "file:///etc/passwd",
    ],
)
def test_urls_to_private_addresses_or_other_schemes_are_refused(
    client: Client, admin_key: str, url: str
) -> None:
    assert_error(
        client.post("/api/1/upload", {"source": url}, HTTP_X_API_KEY=admin_key),
        status=400,
        code=400,
    )


def test_a_redirect_to_a_private_address_is_refused(
    client: Client, admin_key: str, remote: tuple
) -> None:
    base, routes = remote
    routes["/go"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    assert_error(
        client.post("/api/1/upload", {"source": f"{base}/go"}, HTTP_X_API_KEY=admin_key),
        status=400,
        code=400,
    )


def test_url_uploads_are_for_admins_by_default(
    client: Client, api_key: str, remote: tuple, small_png: bytes
) -> None:
    base, routes = remote
    routes["/a.png"] = (200, {}, small_png)
    assert_error(
        client.post("/api/1/upload", {"source": f"{base}/a.png"}, HTTP_X_API_KEY=api_key),
        status=403,
        code=403,
    )


def test_an_album_of_another_user_is_refused(
    client: Client, api_key: str, other_user: User, small_png: bytes
) -> None:
    album = Album.objects.create(owner=other_user, name="Bob's")
    assert_error(
        post_file(client, api_key, small_png, album_id=encode_id(album.pk)), status=403, code=400
    )
    assert_error(post_file(client, api_key, small_png, album_id="!!"), status=403, code=400)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nsfw", "2"),
        ("expiration", "soon"),
        ("expiration", "P0D"),
        ("expiration", "5"),
        ("width", "-5"),
        ("width", "wide"),
        ("title", "t" * 300),
        ("category_id", "999"),
        ("format", "xml"),
    ],
)
def test_bad_parameters_are_refused(
    client: Client, api_key: str, small_png: bytes, field: str, value: str
) -> None:
    assert_error(post_file(client, api_key, small_png, **{field: value}), status=400, code=400)


def test_guest_uploads_can_be_switched_off(
    client: Client, site: SiteSettings, small_png: bytes
) -> None:
    site.guest_uploads = False
    site.save()
    assert_error(
        client.post("/api/1/upload", {"key": site.guest_api_key, "source": io.BytesIO(small_png)}),
        status=403,
        code=401,
    )


def test_use_file_date_is_for_admins_only(client: Client, api_key: str, small_png: bytes) -> None:
    assert_error(post_file(client, api_key, small_png, use_file_date="1"), status=403, code=401)


def test_the_flood_limit_stops_a_guest(
    client: Client, site: SiteSettings, media_root: Path
) -> None:
    site.flood_per_minute = 2
    site.save()
    for n in range(2):
        ok = client.post(
            "/api/1/upload",
            {"key": site.guest_api_key, "source": io.BytesIO(samples.png_bytes(20 + n, 20))},
        )
        assert ok.status_code == 200
    assert_error(
        client.post(
            "/api/1/upload",
            {"key": site.guest_api_key, "source": io.BytesIO(samples.png_bytes(30, 20))},
        ),
        status=429,
        code=130,
    )
    remove_uploads(media_root)


def test_a_duplicate_can_be_refused_by_policy(
    client: Client, api_key: str, site: SiteSettings, small_png: bytes, media_root: Path
) -> None:
    site.duplicate_policy = "refuse"
    site.save()
    assert post_file(client, api_key, small_png, name="a.png").status_code == 200
    assert_error(post_file(client, api_key, small_png, name="a.png"), status=409, code=101)
    remove_uploads(media_root)


def test_a_malformed_multipart_body_is_refused(client: Client, api_key: str) -> None:
    response = client.generic(
        "POST",
        "/api/1/upload",
        b'--zzz\r\nContent-Disposition: form-data; name="source"; filename="a.png"\r\n\r\nabc',
        content_type="multipart/form-data; boundary=zzz",
        HTTP_X_API_KEY=api_key,
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 400


@pytest.mark.parametrize(
    "name",
    [
        "../../x.png",
        "..\\..\\x.png",
        "/etc/passwd.png",
        "фото 日本.png",
        ".png",
        "a" * 400 + ".png",
    ],
)
def test_unicode_and_path_traversal_names_stay_inside_the_media_folder(
    client: Client, api_key: str, small_png: bytes, media_root: Path, name: str
) -> None:
    response = post_file(client, api_key, small_png, name=name)
    assert response.status_code == 200
    image = Image.objects.get()
    assert image.path.startswith("images/") and ".." not in image.path
    filename = image.path.rsplit("/", 1)[1]
    assert len(filename) <= 210 and filename.endswith(".png")
    assert all(ch.isascii() for ch in filename)
    stored = media_root / image.path
    assert (
        stored.resolve().is_relative_to(media_root.resolve()) and stored.read_bytes() == small_png
    )
    remove_uploads(media_root)
