"""File serving at /images/...: types, caching, ranges, on-demand derivatives, expiry."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from albums.models import Album
from tests import samples
from tests.uploads.test_visibility import make_upload
from uploads.models import Image
from uploads.tasks import generate_derivatives

pytestmark = pytest.mark.django_db


def upload(client: Client, key: str, data: bytes, name: str = "clip.bin", **extra: str) -> dict:
    source = io.BytesIO(data)
    source.name = name
    response = client.post("/api/1/upload", {"source": source, **extra}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    return response.json()["image"]


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_files_are_served_with_their_type_nosniff_and_long_caching(
    client: Client, api_key: str
) -> None:
    image = upload(client, api_key, samples.png_bytes(50, 40), "pic.png")
    response = client.get(path_of(image["url"]))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        "max-age=31536000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]
    )
    assert response["ETag"] and response["Last-Modified"] and response["Accept-Ranges"] == "bytes"


def test_a_conditional_request_gets_not_modified(client: Client, api_key: str) -> None:
    image = upload(client, api_key, samples.png_bytes(50, 40), "pic.png")
    first = client.get(path_of(image["url"]))
    again = client.get(path_of(image["url"]), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = client.get(path_of(image["url"]), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_a_video_is_served_in_ranges_so_players_can_seek(client: Client, api_key: str) -> None:
    video = samples.mp4_bytes(64, 48, seconds=2.0)
    image = upload(client, api_key, video, "clip.mp4")
    url = path_of(image["url"])
    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(video)}"
    assert body(part) == video[100:200]
    tail = client.get(url, HTTP_RANGE="bytes=-50")
    assert body(tail) == video[-50:]
    open_ended = client.get(url, HTTP_RANGE=f"bytes={len(video) - 10}-")
    assert body(open_ended) == video[-10:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(video) + 5}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(video)}"
    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"something-else"')
    assert stale.status_code == 200 and body(stale) == video


def test_a_video_upload_gets_a_frame_and_a_thumb_made_from_it(client: Client, api_key: str) -> None:
    image = upload(client, api_key, samples.mp4_bytes(96, 64, seconds=2.0), "My clip.mp4")
    assert image["type"] == "video" and image["mime"] == "video/mp4"
    assert image["duration"] == 2 and image["duration_time"] == "00:02"
    assert image["url_viewer"].startswith("http://testserver/video/my-clip.")
    assert image["frame"]["url"].endswith(".fr.jpeg") and image["thumb"]["url"].endswith(".th.jpeg")
    assert image["display_url"] == image["frame"]["url"]
    frame = PILImage.open(io.BytesIO(body(client.get(path_of(image["frame"]["url"])))))
    assert frame.format == "JPEG" and frame.size == (96, 64)
    thumb = PILImage.open(io.BytesIO(body(client.get(path_of(image["thumb"]["url"])))))
    assert thumb.size == (320, 320)
    viewer = client.get(path_of(image["url_viewer"])).content.decode()
    assert '<meta property="og:video"' in viewer and "<video" in viewer


@pytest.mark.parametrize(
    ("factory", "name", "mime", "thumb_format"),
    [
        (lambda: samples.bmp_bytes(700, 500), "scan.bmp", "image/png", "PNG"),
        (lambda: samples.heic_bytes(700, 500), "phone.heic", "image/heic", "JPEG"),
        (lambda: samples.webp_bytes(700, 500), "pic.webp", "image/webp", "WEBP"),
        (lambda: samples.avif_bytes(700, 500), "pic.avif", "image/avif", "AVIF"),
        (lambda: samples.gif_bytes(700, 500, frames=3), "anim.gif", "image/gif", "GIF"),
    ],
)
def test_every_image_format_gets_browser_ready_derivatives(
    client: Client,
    api_key: str,
    factory,
    name: str,
    mime: str,
    thumb_format: str,
) -> None:
    image = upload(client, api_key, factory(), name)
    assert image["mime"] == mime
    thumb = PILImage.open(io.BytesIO(body(client.get(path_of(image["thumb"]["url"])))))
    assert thumb.format == thumb_format and thumb.size == (320, 320)
    medium = PILImage.open(io.BytesIO(body(client.get(path_of(image["medium"]["url"])))))
    assert medium.format == thumb_format and medium.width == 500
    if name.endswith(".gif"):
        assert getattr(medium, "n_frames", 1) == 3


def test_a_bmp_is_stored_as_png(client: Client, api_key: str, media_root: Path) -> None:
    image = upload(client, api_key, samples.bmp_bytes(60, 40), "scan.bmp")
    assert image["extension"] == "png" and image["url"].endswith("/scan.png")
    assert PILImage.open(media_root / Image.objects.get().path).format == "PNG"


def test_exif_orientation_is_honoured_without_re_encoding(
    client: Client, api_key: str, media_root: Path
) -> None:
    photo = samples.jpeg_bytes(800, 600, exif_orientation=6)
    image = upload(client, api_key, photo, "phone.jpg")
    assert (image["width"], image["height"]) == (600, 800)
    assert (media_root / Image.objects.get().path).read_bytes() == photo
    medium = PILImage.open(io.BytesIO(body(client.get(path_of(image["medium"]["url"])))))
    assert medium.size == (500, 667)


def test_stripping_exif_keeps_the_pixels_and_the_orientation(
    client: Client, api_key: str, site, media_root: Path
) -> None:
    site.keep_exif = False
    site.save()
    photo = samples.jpeg_bytes(80, 60, exif_orientation=6, exif_description="secret place")
    image = upload(client, api_key, photo, "gps.jpg")
    stored = (media_root / Image.objects.get().path).read_bytes()
    assert b"secret place" not in stored and b"TestCam" not in stored
    sos = photo.index(b"\xff\xda")
    assert stored.endswith(photo[sos:])
    reopened = PILImage.open(io.BytesIO(stored))
    assert dict(reopened.getexif()) == {0x0112: 6}
    assert image["original_exifdata"] is None and (image["width"], image["height"]) == (60, 80)


def test_exif_title_description_and_360_are_read(client: Client, api_key: str) -> None:
    photo = samples.jpeg_bytes(
        80, 60, exif_title="Harbour", exif_description="At dawn", xmp_360=True
    )
    image = upload(client, api_key, photo)
    assert image["title"] == "Harbour" and image["description"] == "At dawn"
    assert image["is_360"] == 1
    assert "TestCam" in image["original_exifdata"]


def test_an_expired_upload_is_gone_everywhere_before_any_purge(
    client: Client, api_key: str
) -> None:
    image = upload(client, api_key, samples.png_bytes(50, 40), "soon.png", expiration="PT5M")
    Image.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(path_of(image["url"])).status_code == 404
    assert client.get(path_of(image["thumb"]["url"])).status_code == 404
    assert client.get(path_of(image["url_viewer"])).status_code == 404
    assert client.get("/").content.count(b"list-item-image") == 0


def test_an_expiring_upload_is_not_cached_past_its_expiry(client: Client, api_key: str) -> None:
    image = upload(client, api_key, samples.png_bytes(50, 40), "soon.png", expiration="PT5M")
    cache = client.get(path_of(image["url"]))["Cache-Control"]
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 300 and "immutable" not in cache


def test_a_file_that_probes_but_cannot_be_decoded_stays_and_its_derivatives_404(
    client: Client, api_key: str, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    # A damaged WebP too large to be test-decoded in the request (damaged JPEG, PNG and GIF
    # files are drawn as far as their data goes; small WebP, AVIF and HEIC are refused).
    from uploads import processing

    monkeypatch.setattr(processing, "VERIFY_MAX_PIXELS", 0)
    data = samples.undecodable_webp_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        image = upload(client, api_key, data, "broken.webp")
    saved = Image.objects.get()
    assert saved.chain == Image.CHAIN_IMAGE  # the task failed cleanly and made nothing
    assert body(client.get(path_of(image["url"]))) == data
    assert client.get(path_of(image["thumb"]["url"])).status_code == 404
    assert client.get(path_of(image["thumb"]["url"])).status_code == 404
    generate_derivatives.apply(args=[saved.pk]).get()  # a rerun ends quietly too
    assert Image.objects.get().chain == Image.CHAIN_IMAGE


def test_the_derivatives_task_ends_quietly_for_a_deleted_upload() -> None:
    assert generate_derivatives.apply(args=[987654]).get() is None


def test_unknown_files_and_wrong_slugs(client: Client, api_key: str) -> None:
    image = upload(client, api_key, samples.png_bytes(50, 40), "Nice view.png")
    assert client.get("/images/2020/01/01/nothing.png").status_code == 404
    assert client.get("/images/../../etc/passwd").status_code == 404
    short = client.get(path_of(image["url_short"]))
    assert short.status_code == 301 and short["Location"] == image["path_viewer"]
    wrong = client.get(f"/image/wrong-slug.{image['id_encoded']}")
    assert wrong.status_code == 301 and wrong["Location"] == image["path_viewer"]
    assert client.get("/image/zzzzzzzzzz").status_code == 404


def test_an_upload_in_a_private_album_is_shown_to_its_owner_only(
    client: Client, user, api_key: str
) -> None:
    from chevereto.core.encoding import encode_id

    album = Album.objects.create(owner=user, name="Mine", privacy="private")
    image = upload(
        client, api_key, samples.png_bytes(50, 40), "x.png", album_id=encode_id(album.pk)
    )
    assert client.get(path_of(image["url_viewer"])).status_code == 404
    client.force_login(user)
    assert client.get(path_of(image["url_viewer"])).status_code == 200


def test_an_upload_awaiting_moderation_is_hidden_from_others(
    client: Client, site, api_key: str
) -> None:
    site.moderation = "all"
    site.save()
    image = upload(client, api_key, samples.png_bytes(50, 40), "x.png")
    assert image["is_approved"] == 0
    assert client.get(path_of(image["url_viewer"])).status_code == 404
    assert client.get("/").content.count(b"list-item-image") == 0


def test_the_derivatives_task_is_idempotent(client: Client, api_key: str, media_root: Path) -> None:
    upload(client, api_key, samples.jpeg_bytes(900, 700), "twice.jpg")
    saved = Image.objects.get()
    generate_derivatives.apply(args=[saved.pk]).get()
    made = {p: p.stat().st_mtime_ns for p in media_root.rglob("*.*.jpg")}
    assert len(made) == 2
    generate_derivatives.apply(args=[saved.pk]).get()
    assert {p: p.stat().st_mtime_ns for p in media_root.rglob("*.*.jpg")} == made
    assert Image.objects.get().chain == Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM


def test_beat_runs_the_purge_every_minute_by_default(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-uploads"]
    assert entry == {"task": "uploads.tasks.purge_expired", "schedule": 60.0}
    from uploads.tasks import purge_expired

    assert purge_expired.apply().get() == 0


# --- Caching follows the visibility rule; Range values of any length ---------------------


def _cached(response) -> tuple[str, int | None]:
    cache = response["Cache-Control"]
    age = int(cache.split("max-age=")[1].split(",")[0]) if "max-age=" in cache else None
    return cache, age


def test_a_public_file_is_cached_publicly_for_a_year(user) -> None:
    upload = make_upload(owner=user)
    cache, age = _cached(Client().get("/" + upload.image.path))
    assert cache.startswith("public") and "immutable" in cache and age == 31536000


@pytest.mark.parametrize("privacy", ["private_but_link", "password", "private"])
def test_a_file_reached_by_its_capability_link_is_cached_publicly_for_an_hour_only(
    user, privacy: str
) -> None:
    album = Album.objects.create(owner=user, name="Holidays", privacy=privacy)
    upload = make_upload(owner=user, album=album)
    response = Client().get("/" + upload.image.path)
    cache, age = _cached(response)
    assert response.status_code == 200
    assert cache.startswith("public") and "immutable" not in cache and age == 3600


def test_a_file_awaiting_moderation_is_for_its_owner_and_staff_and_never_cached(
    user, other_user, admin_user
) -> None:
    upload = make_upload(owner=user)
    Image.objects.filter(pk=upload.image.pk).update(is_approved=False)
    url = "/" + upload.image.path
    assert Client().get(url).status_code == 404
    stranger = Client()
    stranger.force_login(other_user)
    assert stranger.get(url).status_code == 404
    for insider in (user, admin_user):
        client = Client()
        client.force_login(insider)
        first = client.get(url)
        assert first.status_code == 200 and first["Cache-Control"] == "private, no-store"
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["Cache-Control"] == "private, no-store"
        part = client.get(url, HTTP_RANGE="bytes=0-9")
        assert part.status_code == 206 and body(part) == upload.original[:10]


def test_an_expiring_capability_file_is_cached_no_longer_than_its_expiry(user) -> None:
    album = Album.objects.create(owner=user, name="Holidays", privacy="private_but_link")
    soon = make_upload(owner=user, album=album, expires_at=timezone.now() + timedelta(seconds=90))
    cache, age = _cached(Client().get("/" + soon.image.path))
    assert cache.startswith("public") and 0 < age <= 90
    later = make_upload(owner=user, album=album, expires_at=timezone.now() + timedelta(days=2))
    assert _cached(Client().get("/" + later.image.path))[1] == 3600


def test_a_range_of_thousands_of_digits_is_answered_not_a_server_error(user) -> None:
    upload = make_upload(owner=user)
    url, size, huge = "/" + upload.image.path, len(upload.original), "9" * 5000
    start_past_the_end = Client().get(url, HTTP_RANGE=f"bytes={huge}-")
    assert start_past_the_end.status_code == 416
    assert start_past_the_end["Content-Range"] == f"bytes */{size}"
    end_past_the_end = Client().get(url, HTTP_RANGE=f"bytes=10-{huge}")
    assert end_past_the_end.status_code == 206
    assert end_past_the_end["Content-Range"] == f"bytes 10-{size - 1}/{size}"
    suffix_longer_than_the_file = Client().get(url, HTTP_RANGE=f"bytes=-{huge}")
    assert body(suffix_longer_than_the_file) == upload.original
    zeros = Client().get(url, HTTP_RANGE=f"bytes={'0' * 5000}5-9")
    assert zeros.status_code == 206 and body(zeros) == upload.original[5:10]
