"""storage_migrate between the local disk and a real S3-compatible server (SeaweedFS, started
by `make test`): files copied and verified, rows switched, served and deletable after."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import boto3
import pytest
import requests
from botocore.config import Config
from django.core.management import call_command
from django.test import Client

from tests import samples
from tests.conftest import require_env
from uploads import storage_migration
from uploads.derivatives import image_derivatives_generate
from uploads.files import all_files
from uploads.models import Image, Storage
from uploads.services import image_delete
from uploads.storage_services import storage_create

pytestmark = pytest.mark.django_db


class Bucket:
    def __init__(self) -> None:
        self.name = require_env("TEST_S3_BUCKET")
        self.endpoint = require_env("TEST_S3_ENDPOINT_URL")
        self.region = require_env("TEST_S3_REGION")
        self.key = require_env("TEST_S3_ACCESS_KEY_ID")
        self.secret = require_env("TEST_S3_SECRET_ACCESS_KEY")
        self.prefix = f"migrate-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def names(self) -> set[str]:
        listing = self.client.list_objects_v2(Bucket=self.name, Prefix=self.prefix + "/")
        return {item["Key"][len(self.prefix) + 1 :] for item in listing.get("Contents", [])}

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=f"{self.prefix}/{name}")["Body"].read()

    def storage(self, *, credentials: bool = True) -> Storage:
        return storage_create(
            name=f"bucket {self.prefix}",
            kind="s3",
            bucket=self.name,
            endpoint_url=self.endpoint,
            region=self.region,
            prefix=self.prefix,
            addressing_style="path",
            access_key_id=self.key if credentials else "",
            secret_access_key=self.secret if credentials else "",
        )


@pytest.fixture
def bucket() -> Iterator[Bucket]:
    made = Bucket()
    yield made
    for name in made.names():
        made.client.delete_object(Bucket=made.name, Key=f"{made.prefix}/{name}")


def upload(client: Client, key: str, *, width: int) -> Image:
    source = io.BytesIO(samples.jpeg_bytes(width, 700))
    source.name = f"harbour-{width}.jpg"
    response = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    image = Image.objects.get(path__endswith=response.json()["image"]["filename"])
    image_derivatives_generate(image_id=image.pk)  # the on-commit task, run here
    image.refresh_from_db()
    return image


def local_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def fetched(client: Client, name: str) -> bytes:
    """Our file URL redirects to the bucket (a signed URL); fetch it like a browser."""
    response = client.get("/" + name)
    assert response.status_code == 302, response.status_code
    remote = requests.get(response["Location"], timeout=10)
    assert remote.status_code == 200
    return remote.content


def migrate(*args: str) -> str:
    out = io.StringIO()
    call_command("storage_migrate", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_uploads_move_to_the_bucket_are_served_from_it_and_deletable(
    client: Client,
    api_key: str,
    media_root: Path,
    bucket: Bucket,
    django_capture_on_commit_callbacks,
) -> None:
    images = [upload(client, api_key, width=1000 + i) for i in range(3)]
    originals = {image.pk: (media_root / image.path).read_bytes() for image in images}
    target = bucket.storage()
    assert "3 moved" in migrate("--to", "s3", "--storage", str(target.pk))
    assert local_files(media_root) == set()
    assert bucket.names() == {f.name for image in images for f in all_files(image)}
    for image in images:
        image.refresh_from_db()
        assert image.storage_id == target.pk
        assert hashlib.md5(bucket.read(image.path)).hexdigest() == image.md5
        assert fetched(client, image.path) == originals[image.pk]
        assert fetched(client, all_files(image)[1].name)  # the thumb
    # New uploads go to the bucket now, derivatives made there too.
    fresh = upload(client, api_key, width=1200)
    assert fresh.storage_id == target.pk and local_files(media_root) == set()
    with django_capture_on_commit_callbacks(execute=True):
        image_delete(image=images[0])
    assert not any(f.name in bucket.names() for f in all_files(images[0]))


def test_a_migration_to_the_bucket_interrupted_halfway_loses_nothing_and_resumes(
    client: Client, api_key: str, media_root: Path, bucket: Bucket
) -> None:
    images = [upload(client, api_key, width=1000 + i) for i in range(4)]
    originals = {image.pk: (media_root / image.path).read_bytes() for image in images}
    target = bucket.storage()
    real_copy = storage_migration._copy_verified
    calls = {"n": 0}

    def crash_halfway(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 8:  # the third upload's second file
            raise KeyboardInterrupt
        return real_copy(*args, **kwargs)

    with (
        mock.patch.object(storage_migration, "_copy_verified", crash_halfway),
        pytest.raises(KeyboardInterrupt),
    ):
        migrate("--to", "s3", "--storage", str(target.pk))
    where = [Image.objects.get(pk=image.pk).storage_id for image in images]
    assert where == [target.pk, target.pk, None, None]
    for image in images[2:]:  # not switched: whole on disk, served from there
        response = client.get("/" + image.path)
        assert b"".join(response.streaming_content) == originals[image.pk]
    assert "2 moved" in migrate("--to", "s3", "--storage", str(target.pk))
    assert local_files(media_root) == set()
    for image in images:
        image.refresh_from_db()
        assert fetched(client, image.path) == originals[image.pk]
    assert len(bucket.names()) == 12


def test_moving_back_from_the_bucket_to_the_local_disk(
    client: Client, api_key: str, media_root: Path, bucket: Bucket
) -> None:
    images = [upload(client, api_key, width=1000 + i) for i in range(2)]
    originals = {image.pk: (media_root / image.path).read_bytes() for image in images}
    migrate("--to", "s3", "--storage", str(bucket.storage().pk))
    assert local_files(media_root) == set()
    assert "2 moved" in migrate("--to", "local")  # the default storage is the local disk
    assert bucket.names() == set()
    assert not Storage.objects.filter(is_active=True).exists()
    for image in images:
        image.refresh_from_db()
        assert image.storage_id is None
        assert (media_root / image.path).read_bytes() == originals[image.pk]


def test_a_bucket_without_credentials_uses_the_environments(
    client: Client, api_key: str, media_root: Path, bucket: Bucket, settings
) -> None:
    settings.AWS_S3_ACCESS_KEY_ID = bucket.key
    settings.AWS_S3_SECRET_ACCESS_KEY = bucket.secret
    image = upload(client, api_key, width=1000)
    target = bucket.storage(credentials=False)
    assert "1 moved" in migrate("--to", "s3", "--storage", str(target.pk))
    assert image.path in bucket.names()
