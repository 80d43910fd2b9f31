"""Storages: where new uploads go, files following their row, and moving them with
`storage_migrate` between local folders (the S3 side is tests/uploads/test_storage_migrate.py)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import User
from chevereto.core.models import AuditEntry
from tests import samples
from tests.factories import client_as
from uploads import storage_migration
from uploads.derivatives import image_derivatives_generate
from uploads.files import all_files
from uploads.models import Image, Storage
from uploads.storage_migration import StorageMigrationError, storage_migration_target
from uploads.storage_services import storage_create

pytestmark = pytest.mark.django_db


def upload(client: Client, key: str, *, width: int = 900, name: str = "harbour.jpg") -> Image:
    source = io.BytesIO(samples.jpeg_bytes(width, 600))
    source.name = name
    response = client.post("/api/1/upload", {"source": source}, HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    image = Image.objects.get(path__endswith=response.json()["image"]["filename"])
    # The worker's task runs on commit, which a test transaction never reaches: run it here.
    image_derivatives_generate(image_id=image.pk)
    image.refresh_from_db()
    return image


def served(client: Client, image: Image, variant: int = 0) -> bytes:
    name = all_files(image)[variant].name
    response = client.get("/" + name)
    assert response.status_code == 200, (name, response.status_code)
    return b"".join(response.streaming_content)


def files_in(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def second_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "second-disk"
    folder.mkdir()
    return folder


@pytest.fixture
def second(second_folder: Path) -> Storage:
    return storage_create(name="second disk", kind="local", folder=str(second_folder))


def test_uploads_go_to_the_default_storage_when_no_storage_is_active(
    client: Client, api_key: str, media_root: Path, second: Storage
) -> None:
    image = upload(client, api_key)
    assert image.storage_id is None
    assert image.path in files_in(media_root)


def test_uploads_and_their_derivatives_go_to_the_active_storage_and_are_served_from_it(
    client: Client, api_key: str, media_root: Path, second_folder: Path
) -> None:
    active = storage_create(name="second", kind="local", folder=str(second_folder), is_active=True)
    image = upload(client, api_key)
    assert image.storage_id == active.pk
    assert {f.name for f in all_files(image)} == files_in(second_folder)
    assert files_in(media_root) == set()
    original = (second_folder / image.path).read_bytes()
    assert served(client, image) == original
    assert hashlib.md5(original).hexdigest() == image.md5


def test_making_another_storage_active_retires_the_first(
    second_folder: Path, tmp_path: Path
) -> None:
    first = storage_create(name="a", kind="local", folder=str(second_folder), is_active=True)
    storage_create(name="b", kind="local", folder=str(tmp_path), is_active=True)
    first.refresh_from_db()
    assert not first.is_active
    assert Storage.objects.filter(is_active=True).count() == 1


def test_a_local_storage_needs_an_absolute_folder_and_an_s3_one_a_bucket() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as local:
        storage_create(name="rel", kind="local", folder="relative/path")
    assert "folder" in local.value.message_dict
    with pytest.raises(ValidationError) as s3:
        storage_create(name="b", kind="s3", endpoint_url="ftp://x", access_key_id="only-id")
    assert {"bucket", "endpoint_url", "secret_access_key"} <= set(s3.value.message_dict)


def test_storage_migrate_moves_every_file_switches_the_rows_and_deletes_the_old_copies(
    client: Client, api_key: str, media_root: Path, second: Storage, second_folder: Path
) -> None:
    images = [upload(client, api_key, width=900 + i, name=f"photo{i}.jpg") for i in range(3)]
    before = {image.pk: served(client, image) for image in images}
    out = io.StringIO()
    call_command(
        "storage_migrate", "--to", "local", "--storage", str(second.pk), "--no-progress", stdout=out
    )
    assert "3 moved" in out.getvalue()
    assert files_in(media_root) == set()
    for image in images:
        image.refresh_from_db()
        assert image.storage_id == second.pk
        assert served(client, image) == before[image.pk]
        assert served(client, image, variant=1)  # the thumb too
    second.refresh_from_db()
    assert second.is_active and second.file_count == 9  # originals, thumbs and mediums
    entry = AuditEntry.objects.get(action="storage.migrate")
    assert entry.source == "command" and entry.details["moved"] == 3


def test_files_are_deletable_after_the_switch(
    client: Client,
    api_key: str,
    second: Storage,
    second_folder: Path,
    django_capture_on_commit_callbacks,
) -> None:
    image = upload(client, api_key)
    call_command("storage_migrate", "--to", "local", "--storage", str(second.pk), "--no-progress")
    assert files_in(second_folder)
    image.refresh_from_db()
    from uploads.services import image_delete

    with django_capture_on_commit_callbacks(execute=True):
        image_delete(image=image)
    assert files_in(second_folder) == set()


def test_an_interrupted_migration_loses_nothing_and_resumes(
    client: Client, api_key: str, media_root: Path, second: Storage, second_folder: Path
) -> None:
    images = [upload(client, api_key, width=900 + i, name=f"photo{i}.jpg") for i in range(4)]
    contents = {image.pk: served(client, image) for image in images}
    real_copy = storage_migration._copy_verified
    calls = {"n": 0}

    def crash_on_the_seventh_file(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 7:  # halfway through the third upload's files
            raise KeyboardInterrupt
        return real_copy(*args, **kwargs)

    with (
        mock.patch.object(storage_migration, "_copy_verified", crash_on_the_seventh_file),
        pytest.raises(KeyboardInterrupt),
    ):
        call_command(
            "storage_migrate", "--to", "local", "--storage", str(second.pk), "--no-progress"
        )
    rows = {image.pk: Image.objects.get(pk=image.pk).storage_id for image in images}
    assert list(rows.values()) == [second.pk, second.pk, None, None]
    # Every upload is whole where its row says it is, and still served.
    for image in images:
        image.refresh_from_db()
        root = second_folder if image.storage_id else media_root
        assert {f.name for f in all_files(image)} <= files_in(root)
        assert served(client, image) == contents[image.pk]
    out = io.StringIO()
    call_command(
        "storage_migrate", "--to", "local", "--storage", str(second.pk), "--no-progress", stdout=out
    )
    assert "2 moved" in out.getvalue()
    assert files_in(media_root) == set()
    assert len(files_in(second_folder)) == 12
    for image in images:
        image.refresh_from_db()
        assert served(client, image) == contents[image.pk]


def test_a_copy_that_does_not_match_the_uploads_md5_is_refused_and_the_upload_stays(
    client: Client, api_key: str, media_root: Path, second: Storage, second_folder: Path
) -> None:
    image = upload(client, api_key)
    Image.objects.filter(pk=image.pk).update(md5="0" * 32)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "storage_migrate",
            "--to",
            "local",
            "--storage",
            str(second.pk),
            "--no-progress",
            stderr=err,
        )
    assert "checksum mismatch" in err.getvalue()
    image.refresh_from_db()
    assert image.storage_id is None
    assert {f.name for f in all_files(image)} <= files_in(media_root)
    assert files_in(second_folder) == set()


def test_an_upload_deleted_while_its_files_are_copied_leaves_no_copies(
    client: Client, api_key: str, media_root: Path, second: Storage, second_folder: Path
) -> None:
    image = upload(client, api_key)
    real_copy = storage_migration._copy_verified

    def copy_then_delete_the_row(*args: object, **kwargs: object) -> int:
        size = real_copy(*args, **kwargs)
        Image.objects.filter(pk=image.pk).delete()
        return size

    with mock.patch.object(storage_migration, "_copy_verified", copy_then_delete_the_row):
        outcome = storage_migration.image_storage_move(image_id=image.pk, target_id=second.pk)
    assert outcome == storage_migration.GONE
    assert files_in(second_folder) == set()


def test_moving_back_to_the_default_storage(
    client: Client, api_key: str, media_root: Path, second_folder: Path
) -> None:
    storage_create(name="second", kind="local", folder=str(second_folder), is_active=True)
    image = upload(client, api_key)
    call_command("storage_migrate", "--to", "local", "--no-progress")  # the active one: no-op
    assert Image.objects.get(pk=image.pk).storage_id is not None
    Storage.objects.update(is_active=False)
    from uploads.storage import storages_changed

    storages_changed()
    call_command("storage_migrate", "--to", "local", "--no-progress")
    image.refresh_from_db()
    assert image.storage_id is None
    assert {f.name for f in all_files(image)} == files_in(media_root)
    assert files_in(second_folder) == set()


def test_the_target_must_exist_match_the_kind_and_be_unambiguous(tmp_path: Path) -> None:
    with pytest.raises(StorageMigrationError, match="no s3 storage"):
        storage_migration_target(to="s3")
    local = storage_create(name="l", kind="local", folder=str(tmp_path))
    with pytest.raises(StorageMigrationError, match="is local, not s3"):
        storage_migration_target(to="s3", storage_id=local.pk)
    storage_create(name="s1", kind="s3", bucket="one")
    storage_create(name="s2", kind="s3", bucket="two")
    with pytest.raises(StorageMigrationError, match="--storage"):
        storage_migration_target(to="s3")
    assert storage_migration_target(to="local") is None  # the default storage is local here


# --- API V4 ---------------------------------------------------------------------------------


def test_staff_create_list_and_edit_storages_through_the_api_and_never_see_the_secret(
    admin_user: User, tmp_path: Path
) -> None:
    client = client_as(admin_user)
    refused = client.post(
        "/api/4/admin/storages/",
        {"name": "x", "kind": "local", "folder": "rel"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["status_code"] == 400
    made = client.post(
        "/api/4/admin/storages/",
        {
            "name": "bucket",
            "kind": "s3",
            "bucket": "b",
            "access_key_id": "id",
            "secret_access_key": "s3cr3t",
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    storage = made.json()["storage"]
    assert storage["has_secret"] is True and "secret_access_key" not in storage
    listed = client.get("/api/4/admin/storages/").json()
    assert listed["default_kind"] == "local"
    assert [s["name"] for s in listed["storages"]] == ["bucket"]
    edited = client.patch(
        f"/api/4/admin/storages/{storage['id']}/",
        {"prefix": "media"},
        content_type="application/json",
    )
    assert edited.status_code == 200 and edited.json()["storage"]["prefix"] == "media"
    assert (
        client.patch(
            "/api/4/admin/storages/999999/", {}, content_type="application/json"
        ).status_code
        == 404
    )
    entries = AuditEntry.objects.filter(action__startswith="storage.").order_by("pk")
    assert [(e.action, e.source) for e in entries] == [
        ("storage.create", "api"),
        ("storage.edit", "api"),
    ]
    assert "s3cr3t" not in str(entries[0].details)


def test_the_api_migrate_route_moves_every_upload_through_the_worker_task(
    django_capture_on_commit_callbacks,
    client: Client,
    api_key: str,
    admin_user: User,
    media_root: Path,
    second: Storage,
    second_folder: Path,
) -> None:
    images = [upload(client, api_key, width=900 + i, name=f"p{i}.jpg") for i in range(3)]
    with (
        mock.patch("uploads.tasks.STORAGE_MIGRATE_BATCH", 2),  # two batches, chained
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_as(admin_user).post(f"/api/4/admin/storages/{second.pk}/migrate/")
    assert response.status_code == 202, response.content
    assert response.json()["pending"] == 3
    assert all(Image.objects.get(pk=i.pk).storage_id == second.pk for i in images)
    assert files_in(media_root) == set()
    second.refresh_from_db()
    assert second.is_active and second.file_count == 9
    assert AuditEntry.objects.filter(action="storage.migrate", source="api").count() == 1


def test_stats_regen_counts_files_and_bytes_from_the_rows(
    client: Client, api_key: str, admin_user: User, second_folder: Path
) -> None:
    active = storage_create(name="s", kind="local", folder=str(second_folder), is_active=True)
    upload(client, api_key)
    response = client_as(admin_user).post(f"/api/4/admin/storages/{active.pk}/stats/regen/")
    assert response.status_code == 200
    stats = response.json()["storage"]
    on_disk = sum(p.stat().st_size for p in second_folder.rglob("*") if p.is_file())
    assert stats["file_count"] == 3 and stats["bytes_used"] == on_disk


# --- Dashboard ------------------------------------------------------------------------------


def test_the_dashboard_lists_storages_and_refuses_a_relative_folder(
    admin_user: User, tmp_path: Path
) -> None:
    client = client_as(admin_user)
    storage_create(name="disk two", kind="local", folder=str(tmp_path))
    page = client.get("/dashboard/uploads/storage/")
    assert page.status_code == 200 and b"disk two" in page.content
    form = client.post(
        "/dashboard/uploads/storage/add/",
        {"name": "bad", "kind": "local", "folder": "not/absolute"},
    )
    assert form.status_code == 200 and b"absolute folder" in form.content
    assert not Storage.objects.filter(name="bad").exists()
