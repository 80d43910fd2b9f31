"""A file sent again keeps every promise: options, delete link, flood count, one probe."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from pathlib import Path
from unittest import mock

import pytest
from django.test import Client
from PIL import Image as PILImage

from accounts.models import User
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from tests.api_v1.conftest import b64
from uploads import probe
from uploads.models import Image, UploadAttempt
from uploads.services import delete_token_digest

pytestmark = pytest.mark.django_db


def imgbb_upload(client: Client, key: str, data: bytes, **fields: str) -> dict:
    response = client.post("/api/1/upload", {"image": b64(data), "key": key, **fields})
    assert response.status_code == 200, response.content
    return response.json()["data"]


def chevereto_upload(client: Client, key: str, data: bytes, **fields: str):
    return client.post("/api/1/upload", {"source": io.BytesIO(data), **fields}, HTTP_X_API_KEY=key)


def delete_by_link(client: Client, delete_url: str, capture) -> None:
    path = delete_url.removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    with capture(execute=True):
        assert client.post(path).status_code == 200


def test_an_imgbb_client_asking_for_an_expiration_gets_it_and_a_working_delete_url(
    client: Client, api_key: str, small_png: bytes, django_capture_on_commit_callbacks
) -> None:
    first = imgbb_upload(client, api_key, small_png)
    assert first["expiration"] == 0
    again = imgbb_upload(client, api_key, small_png, expiration="3600")
    assert again["id"] != first["id"]
    assert again["expiration"] == 3600
    assert again["delete_url"]
    delete_by_link(client, again["delete_url"], django_capture_on_commit_callbacks)
    remaining = Image.objects.get()
    assert encode_id(remaining.pk) == first["id"]


def test_an_identical_re_upload_returns_the_same_upload_with_a_working_delete_url(
    client: Client, api_key: str, small_png: bytes, django_capture_on_commit_callbacks
) -> None:
    first = imgbb_upload(client, api_key, small_png, expiration="3600")
    again = imgbb_upload(client, api_key, small_png, expiration="3600")
    assert again["id"] == first["id"] and again["expiration"] == 3600
    assert again["delete_url"] == first["delete_url"]
    assert Image.objects.count() == 1
    delete_by_link(client, again["delete_url"], django_capture_on_commit_callbacks)
    assert Image.objects.count() == 0


@pytest.mark.parametrize(
    "changed",
    [
        {"title": "Another title"},
        {"description": "Now with words"},
        {"tags": "new, tags"},
        {"nsfw": "1"},
        {"expiration": "P1D"},
        {"category_id": "category"},
        {"album_id": "album"},
    ],
)
def test_a_re_upload_with_different_options_becomes_a_new_upload(
    client: Client, user: User, api_key: str, small_png: bytes, changed: dict[str, str]
) -> None:
    from albums.models import Album
    from uploads.models import Category

    if "category_id" in changed:
        changed = {"category_id": str(Category.objects.create(name="Cats", slug="cats").pk)}
    if "album_id" in changed:
        changed = {"album_id": encode_id(Album.objects.create(owner=user, name="Mine").pk)}
    first = chevereto_upload(client, api_key, small_png).json()["image"]
    second = chevereto_upload(client, api_key, small_png, **changed).json()["image"]
    assert second["id_encoded"] != first["id_encoded"]
    assert Image.objects.count() == 2


def test_a_re_upload_without_an_expiration_does_not_return_an_expiring_upload(
    client: Client, api_key: str, small_png: bytes
) -> None:
    first = imgbb_upload(client, api_key, small_png, expiration="3600")
    again = imgbb_upload(client, api_key, small_png)
    assert again["id"] != first["id"] and again["expiration"] == 0


def test_the_delete_url_is_shown_again_to_the_uploader_and_renewed_when_the_secret_changed(
    client: Client, api_key: str, small_png: bytes, settings
) -> None:
    first = chevereto_upload(client, api_key, small_png).json()["image"]
    again = chevereto_upload(client, api_key, small_png).json()["image"]
    assert again["delete_url"] == first["delete_url"]
    settings.SECRET_KEY = "a rotated secret key, long enough to be a real one " * 2
    renewed = chevereto_upload(client, api_key, small_png).json()["image"]
    assert renewed["id_encoded"] == first["id_encoded"]
    assert renewed["delete_url"] != first["delete_url"]
    old_path = first["delete_url"].removeprefix("http://testserver")
    new_path = renewed["delete_url"].removeprefix("http://testserver")
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200


def test_a_delete_url_issued_before_tokens_left_the_id_out_is_still_shown_and_works(
    client: Client, api_key: str, small_png: bytes, settings
) -> None:
    # Earlier uploads had a token whose HMAC covered the primary key too.
    first = chevereto_upload(client, api_key, small_png).json()["image"]
    image = Image.objects.get()
    message = f"image-delete:{image.pk}:{image.delete_salt}".encode()
    legacy = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:48]
    Image.objects.filter(pk=image.pk).update(delete_token_digest=delete_token_digest(legacy))
    again = chevereto_upload(client, api_key, small_png).json()["image"]
    assert again["delete_url"].endswith(f"/delete/{legacy}")
    assert again["delete_url"] != first["delete_url"]
    assert client.get(again["delete_url"].removeprefix("http://testserver")).status_code == 200
    assert client.get(first["delete_url"].removeprefix("http://testserver")).status_code == 404


def test_another_user_sending_the_same_file_gets_an_upload_of_their_own(
    client: Client, api_key: str, other_user: User, small_png: bytes
) -> None:
    from accounts.services import api_key_create

    mine = chevereto_upload(client, api_key, small_png).json()["image"]
    theirs = chevereto_upload(client, api_key_create(user=other_user).key, small_png).json()[
        "image"
    ]
    assert theirs["id_encoded"] != mine["id_encoded"]
    assert theirs["delete_url"] != mine["delete_url"]


def test_guests_are_never_answered_with_each_others_uploads(
    client: Client, site: SiteSettings, small_png: bytes
) -> None:
    first = imgbb_upload(client, site.guest_api_key, small_png)
    second = imgbb_upload(client, site.guest_api_key, small_png)
    assert first["id"] != second["id"] and first["delete_url"] != second["delete_url"]
    assert Image.objects.count() == 2


def test_duplicates_count_toward_the_flood_limit(
    client: Client, api_key: str, site: SiteSettings, small_png: bytes
) -> None:
    site.flood_per_minute = 3
    site.save()
    for _ in range(3):
        assert chevereto_upload(client, api_key, small_png).status_code == 200
    assert Image.objects.count() == 1 and UploadAttempt.objects.count() == 2
    refused = chevereto_upload(client, api_key, small_png)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == 130


def test_a_duplicate_is_not_probed_again(client: Client, api_key: str, small_png: bytes) -> None:
    assert chevereto_upload(client, api_key, small_png).status_code == 200
    with mock.patch.object(probe, "probe_file", side_effect=AssertionError("probed")):
        assert chevereto_upload(client, api_key, small_png).status_code == 200


def test_a_duplicate_of_a_format_since_disabled_is_refused_without_a_probe(
    client: Client, api_key: str, site: SiteSettings, small_png: bytes
) -> None:
    assert chevereto_upload(client, api_key, small_png).status_code == 200
    site.enabled_formats = "jpg"
    site.save()
    with mock.patch.object(probe, "probe_file", side_effect=AssertionError("probed")):
        refused = chevereto_upload(client, api_key, small_png)
    assert refused.status_code == 415 and refused.json()["error"]["code"] == 614


def test_a_duplicate_over_a_lowered_size_limit_is_refused(
    client: Client, api_key: str, site: SiteSettings, media_root: Path
) -> None:
    noise = PILImage.frombytes("RGB", (640, 640), os.urandom(640 * 640 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert buffer.tell() > 1024 * 1024
    assert chevereto_upload(client, api_key, buffer.getvalue()).status_code == 200
    site.user_max_filesize_mb = 1
    site.save()
    refused = chevereto_upload(client, api_key, buffer.getvalue())
    assert refused.status_code == 413 and refused.json()["error"]["code"] == 400
