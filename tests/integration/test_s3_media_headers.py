"""Files on a real S3-compatible server (SeaweedFS) are written and served with the
upload's own type and disposition, as the site serves local files."""

from __future__ import annotations

import hashlib
import io

import pytest
import requests
from django.test import Client

from tests import samples
from uploads.files import all_files
from uploads.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


def test_objects_carry_the_rows_type_and_an_inline_disposition(
    client: Client, api_key: str, s3_storage
) -> None:
    source = io.BytesIO(samples.png_bytes(900, 600))
    source.name = "page.html"  # the name must not decide the type
    response = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=api_key)
    assert response.status_code == 200, response.content
    image = Image.objects.get()
    bucket = s3_storage.client
    files = all_files(image)
    assert {f.variant for f in files} >= {"image", "thumb", "medium"}
    for stored in files:
        head = bucket.head_object(
            Bucket=s3_storage.env["S3_BUCKET"], Key=f"{s3_storage.prefix}/{stored.name}"
        )
        assert head["ContentType"] == stored.mime, stored
        assert head["ContentDisposition"] == f'inline; filename="{stored.filename}"'


def test_the_signed_url_answers_with_the_rows_type(
    client: Client, api_key: str, s3_storage
) -> None:
    source = io.BytesIO(samples.jpeg_bytes(300, 200))
    source.name = "harbour.jpg"
    image = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=api_key).json()
    redirect = client.get(image["image"]["url"].removeprefix("http://testserver"))
    assert redirect.status_code == 302
    assert "response-content-type=image%2Fjpeg" in redirect["Location"]
    remote = requests.get(redirect["Location"], timeout=10)
    assert remote.status_code == 200
    assert remote.headers["Content-Type"] == "image/jpeg"
    assert remote.headers["Content-Disposition"].startswith("inline;")


def test_files_renamed_for_a_private_album_keep_their_type_on_the_bucket(
    client: Client, api_key: str, user, s3_storage
) -> None:
    from albums.models import Album
    from tests.factories import make_album
    from uploads.album_services import image_files_randomize

    source = io.BytesIO(samples.png_bytes(900, 600))
    source.name = "harbour.png"
    response = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=api_key)
    assert response.status_code == 200, response.content
    image = Image.objects.get()
    image.album = make_album(owner=user, privacy=Album.Privacy.PRIVATE)
    image.save()
    new_path = image_files_randomize(image_id=image.pk)
    assert new_path and new_path != "images/harbour.png"
    image.refresh_from_db()
    bucket = s3_storage.client
    for stored in all_files(image):
        head = bucket.head_object(
            Bucket=s3_storage.env["S3_BUCKET"], Key=f"{s3_storage.prefix}/{stored.name}"
        )
        assert head["ContentType"] == stored.mime
        assert head["ContentDisposition"] == f'inline; filename="{stored.filename}"'


def test_files_copied_by_an_import_carry_their_type_and_disposition(s3_storage, tmp_path) -> None:
    from django.core.files.storage import default_storage

    from imports.chevereto_files import copy_into

    source = tmp_path / "old.jpg"
    source.write_bytes(samples.jpeg_bytes(40, 30))
    copied = copy_into(
        default_storage,
        str(source),
        "images/2019/05/01/old.th.jpg",
        mime="image/jpeg",
        want_md5=True,
    )
    assert copied.size == source.stat().st_size
    assert copied.md5 == hashlib.md5(source.read_bytes()).hexdigest()
    head = s3_storage.client.head_object(
        Bucket=s3_storage.env["S3_BUCKET"], Key=f"{s3_storage.prefix}/images/2019/05/01/old.th.jpg"
    )
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentDisposition"] == 'inline; filename="old.th.jpg"'
