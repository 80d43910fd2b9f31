"""The whole life of an upload with media in a real S3-compatible server (SeaweedFS)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone
from PIL import Image as PILImage

from tests import samples
from tests.integration.conftest import wait_until
from uploads.expiry import images_purge_expired
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client: Client, key: str, data: bytes, **extra: str) -> dict:
    source = io.BytesIO(data)
    source.name = "harbour.jpg"
    response = client.post("/api/1/upload", {"source": source, **extra}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    return response.json()["image"]


def follow(client: Client, url: str) -> bytes:
    """Our file URL redirects to the bucket; fetch from there like a browser would."""
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 302, response.status_code
    remote = requests.get(response["Location"], timeout=10)
    assert remote.status_code == 200
    return remote.content


def test_upload_serve_derivatives_and_delete_against_the_bucket(
    client: Client, api_key: str, s3_storage
) -> None:
    photo = samples.jpeg_bytes(1400, 1000)
    image = upload(client, api_key, photo)
    stored = Image.objects.get()
    assert stored.path in s3_storage.object_names()
    assert follow(client, image["url"]) == photo
    thumb = PILImage.open(io.BytesIO(follow(client, image["thumb"]["url"])))
    assert thumb.size == (320, 320)
    assert PILImage.open(io.BytesIO(follow(client, image["medium"]["url"]))).width == 500
    assert len(s3_storage.object_names()) == 3
    deleted = client.post(image["delete_url"].removeprefix("http://testserver"))
    assert deleted.status_code == 200
    wait_until(lambda: s3_storage.object_names() == [], timeout=10, what="objects deleted")
    assert Image.objects.count() == 0


def test_the_purge_removes_expired_uploads_from_the_bucket(
    client: Client, api_key: str, s3_storage
) -> None:
    upload(client, api_key, samples.jpeg_bytes(300, 200), expiration="PT5M")
    keep = upload(client, api_key, samples.png_bytes(300, 200))
    Image.objects.filter(expires_at__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert images_purge_expired() == 1
    kept = Image.objects.get()
    assert all(
        key.startswith(kept.path.rsplit(".", 1)[0] + ".") for key in s3_storage.object_names()
    )
    assert keep["url"].endswith(Image.objects.get().path)


def test_a_worker_writes_derivatives_into_the_bucket(
    client: Client, api_key: str, s3_storage, start_worker
) -> None:
    start_worker(extra_env={**s3_storage.env, "S3_LOCATION": s3_storage.prefix})
    upload(client, api_key, samples.jpeg_bytes(1400, 1000))
    full = Image.CHAIN_IMAGE | Image.CHAIN_THUMB | Image.CHAIN_MEDIUM
    # The worker writes the files, then records them: wait for the record.
    wait_until(lambda: Image.objects.get().chain == full, what="derivatives recorded")
    assert len(s3_storage.object_names()) == 3
