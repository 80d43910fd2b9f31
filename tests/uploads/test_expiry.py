"""Purging expired uploads, checking storage, and the per-upload lock."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.conftest import files_under
from uploads import expiry
from uploads.locks import image_lock
from uploads.models import DerivativeLock, Image


def make_images(count: int, *, expired: bool, prefix: str) -> list[Image]:
    now = timezone.now()
    rows = []
    for n in range(count):
        path = f"images/2026/01/01/{prefix}{n}.png"
        default_storage.save(path, ContentFile(b"png"))
        default_storage.save(path.replace(".png", ".th.png"), ContentFile(b"th"))
        rows.append(
            Image(
                path=path,
                mime="image/png",
                size=3,
                width=10,
                height=10,
                md5="0" * 32,
                created_at=now - timedelta(hours=1),
                expires_at=now - timedelta(seconds=1) if expired else now + timedelta(days=1),
                chain=Image.CHAIN_IMAGE | Image.CHAIN_THUMB,
            )
        )
    return Image.objects.bulk_create(rows)


@pytest.mark.django_db(transaction=True)
def test_the_purge_deletes_expired_rows_and_files_and_nothing_else(media_root: Path) -> None:
    make_images(7, expired=True, prefix="old")
    keep = make_images(3, expired=False, prefix="new")
    assert expiry.images_purge_expired(batch_size=3) == 7
    assert sorted(Image.objects.values_list("pk", flat=True)) == sorted(i.pk for i in keep)
    left = files_under(media_root)
    assert len(left) == 6 and all("/new" in name for name in left)


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_delete_each_file_once(media_root: Path) -> None:
    make_images(60, expired=True, prefix="old")
    make_images(5, expired=False, prefix="new")
    deletions: Counter[str] = Counter()
    real_delete = default_storage.delete

    def counting_delete(name: str) -> None:
        deletions[name] += 1
        real_delete(name)

    results: list[int] = []
    errors: list[BaseException] = []

    def purge() -> None:
        try:
            results.append(expiry.images_purge_expired(batch_size=7))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    with mock.patch.object(default_storage, "delete", side_effect=counting_delete):
        threads = [threading.Thread(target=purge) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors
    assert sum(results) == 60
    assert len(deletions) == 120 and set(deletions.values()) == {1}
    assert Image.objects.count() == 5
    assert len(files_under(media_root)) == 10


@pytest.mark.django_db
def test_a_purge_that_fails_to_commit_keeps_rows_and_files(media_root: Path) -> None:
    make_images(2, expired=True, prefix="old")
    with (
        mock.patch.object(
            Image.objects.none().__class__, "delete", side_effect=RuntimeError("db down")
        ),
        pytest.raises(RuntimeError),
    ):
        expiry.images_purge_expired()
    assert Image.objects.count() == 2
    assert len(files_under(media_root)) == 4


@pytest.mark.django_db
def test_reconcile_finds_orphans_and_rows_without_files(
    media_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_images(2, expired=False, prefix="ok")
    default_storage.save("images/2026/01/01/stray.png", ContentFile(b"x"))
    lost = make_images(1, expired=False, prefix="lost")[0]
    default_storage.delete(lost.path)
    report = expiry.storage_reconcile(grace=timedelta(0))
    assert report.orphan_files == ["images/2026/01/01/stray.png"]
    assert report.missing_files == [(lost.pk, lost.path)]
    call_command("storage_reconcile", "--delete", "--grace-minutes", "0")
    out = capsys.readouterr().out
    assert "orphan file: images/2026/01/01/stray.png" in out and "missing file" in out
    assert not (media_root / "images/2026/01/01/stray.png").exists()
    assert (media_root / "images/2026/01/01/ok0.png").exists()


@pytest.mark.django_db
def test_reconcile_leaves_fresh_files_alone(media_root: Path) -> None:
    default_storage.save("images/2026/01/01/in-flight.png", ContentFile(b"x"))
    report = expiry.storage_reconcile(delete=True)
    assert report.orphan_files == [] and (media_root / "images/2026/01/01/in-flight.png").exists()


@pytest.mark.django_db
def test_the_lock_is_exclusive_and_a_stale_one_is_taken_over() -> None:
    with image_lock(42, wait=0) as first:
        assert first is True
        with image_lock(42, wait=0.1) as second:
            assert second is False
    assert not DerivativeLock.objects.exists()
    DerivativeLock.objects.create(image_id=7, expires_at=timezone.now() - timedelta(seconds=1))
    with image_lock(7, wait=0) as taken:
        assert taken is True
