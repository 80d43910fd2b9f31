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


def test_uploads_of_one_name_each_get_their_own_object_and_none_is_overwritten(
    client: Client, api_key: str, s3_storage
) -> None:
    photos = [samples.jpeg_bytes(300 + n, 200) for n in range(3)]
    images = [upload(client, api_key, photo) for photo in photos]
    paths = [row.path for row in Image.objects.order_by("pk")]
    assert paths[0].endswith("/harbour.jpg") and len(set(paths)) == 3
    assert set(paths) <= set(s3_storage.object_names())
    for image, photo in zip(images, photos, strict=True):
        assert follow(client, image["url"]) == photo


def test_save_new_refuses_a_taken_name_and_never_overwrites(s3_storage) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    assert default_storage.save_new("a/x.bin", ContentFile(b"first")) == "a/x.bin"
    with pytest.raises(FileExistsError):
        default_storage.save_new("a/x.bin", ContentFile(b"second"))
    # Past the multipart threshold the upload takes the transfer manager, checked first.
    big = ContentFile(b"\0" * (default_storage.transfer_config.multipart_threshold + 1))
    with pytest.raises(FileExistsError):
        default_storage.save_new("a/x.bin", big)
    with default_storage.open("a/x.bin") as handle:
        assert handle.read() == b"first"
    assert default_storage.save_new("a/big.bin", big) == "a/big.bin"
    assert default_storage.size("a/big.bin") == big.size
    # The ordinary save still picks another name rather than overwrite.
    other = default_storage.save("a/x.bin", ContentFile(b"third"))
    assert other != "a/x.bin" and default_storage.open(other).read() == b"third"
    assert s3_storage.object_names() == sorted(["a/x.bin", "a/big.bin", other])


def test_without_conditional_writes_a_taken_name_is_found_by_asking_first(s3_storage) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.conditional_writes = False
    default_storage.save_new("b/y.bin", ContentFile(b"first"))
    with pytest.raises(FileExistsError):
        default_storage.save_new("b/y.bin", ContentFile(b"second"))
    assert default_storage.open("b/y.bin").read() == b"first"


def test_a_file_no_row_owns_keeps_its_name_and_its_bytes(
    client: Client, api_key: str, s3_storage
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from uploads.naming import folder_for

    stray = folder_for(timezone.now(), storage_mode="datefolder") + "harbour.jpg"
    default_storage.save_new(stray, ContentFile(b"left behind"))
    photo = samples.jpeg_bytes(320, 200)
    image = upload(client, api_key, photo)
    assert Image.objects.get().path != stray
    assert follow(client, image["url"]) == photo
    assert default_storage.open(stray).read() == b"left behind"


def test_an_original_is_sent_with_its_content_md5_and_no_crc_checksum(
    client: Client, api_key: str, s3_storage
) -> None:
    """The bucket checks the bytes it receives against the upload's MD5; the CRC headers
    many S3-compatible servers refuse are not sent (chevereto.core.s3config)."""
    import base64
    import hashlib

    from django.core.files.storage import default_storage

    sent: list[dict[str, str]] = []

    def record(request, **kwargs) -> None:
        headers = request.headers.items()
        sent.append({k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in headers})

    events = default_storage.connection.meta.client.meta.events
    events.register("before-send.s3.PutObject", record)
    try:
        photo = samples.jpeg_bytes(300, 200)
        image = upload(client, api_key, photo)
    finally:
        events.unregister("before-send.s3.PutObject", record)
    digest = hashlib.md5(photo).digest()
    assert image["md5"] == digest.hex()
    original = [h for h in sent if h.get("content-md5")]
    assert [h["content-md5"] for h in original] == [base64.b64encode(digest).decode()]
    crc = [k for h in sent for k in h if k.startswith("x-amz-checksum") or k == "x-amz-trailer"]
    assert not crc
    assert follow(client, image["url"]) == photo


def test_a_write_whose_bytes_do_not_match_their_md5_is_refused_and_leaves_nothing(
    s3_storage,
) -> None:
    from botocore.exceptions import ClientError
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from uploads.files import typed

    wrong = typed(ContentFile(b"the bytes sent"), mime="image/png", filename="c.png", md5="0" * 32)
    with pytest.raises(ClientError) as refused:
        default_storage.save_new("c/c.png", wrong)
    assert refused.value.response["Error"]["Code"] == "BadDigest"
    assert s3_storage.object_names() == []
