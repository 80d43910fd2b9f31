"""import_chevereto on an older (V3-shaped) site, and interrupted imports that resume
without importing anything twice."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.utils import timezone

import imports.chevereto as chevereto
import imports.chevereto_images as chevereto_images
from accounts.models import User
from albums.models import Album
from chevereto.core.idcodec import IdCodec
from chevereto.core.models import SiteSettings
from imports.models import ImportItem, ImportJob
from imports.runner import job_run
from imports.services import import_job_resume
from social.models import Follow, Like
from tests.conftest import files_under, require_env
from tests.imports.chevereto_site import ChevSite, drop, read_only_url
from tests.imports.chevereto_site import Follow as SrcFollow
from tests.imports.chevereto_site import Like as SrcLike
from tests.imports.test_chevereto import run_import
from uploads.models import Image


@pytest.fixture
def mariadb() -> str:
    return require_env("TEST_MARIADB_URL")


@pytest.fixture
def old_media(tmp_path: Path) -> Path:
    root = tmp_path / "chevereto"
    root.mkdir()
    return root


def v3_site() -> ChevSite:
    # V3: salt in `settings`, no id_padding row (ids encoded unpadded), no videos, tags,
    # nesting or approval columns.
    site = ChevSite(version="3", salt="deadbeef", padding=0)
    olga = site.user("olga", password="olga-v3-pw", name="Olga")
    album = site.album(olga, "Summer 2015")
    site.image(olga, album_id=album.id, title="Lake", width=1200, height=800)
    site.image(olga, title="Forest", storage_mode="old")
    return site


@pytest.fixture
def v3(db: None, mariadb: str, old_media: Path) -> Iterator[ImportJob]:
    site = v3_site()
    url = site.create(server_url=mariadb, media_root=old_media)
    try:
        yield run_import(read_only_url(url), old_media)
    finally:
        drop(url)


def test_a_v3_site_imports_with_its_unpadded_ids(v3: ImportJob, client: Client) -> None:
    assert v3.status == ImportJob.Status.DONE, v3.error
    assert (SiteSettings.load().id_salt, SiteSettings.load().id_padding) == ("deadbeef", 0)
    old = IdCodec("deadbeef", 0)
    lake = client.get(f"/image/lake.{old.encode(1)}")
    assert lake.status_code == 200 and b"Lake" in lake.content
    assert client.get(f"/album/summer-2015.{old.encode(1)}").status_code == 200
    assert client.get("/images/old/pic-2.jpg").status_code == 200
    assert client.get("/olga").status_code == 200
    assert authenticate(username="olga", password="olga-v3-pw") is not None


def test_a_v3_upload_without_a_medium_gets_the_size_the_pipeline_would_make(
    v3: ImportJob, client: Client
) -> None:
    lake = Image.objects.get(pk=1)
    assert lake.is_approved is True
    assert lake.chain == Image.CHAIN_IMAGE | Image.CHAIN_THUMB
    assert lake.medium_width == SiteSettings.load().medium_width
    # Made on demand from the imported original when first asked for.
    medium = client.get("/images/2022/03/04/pic-1.md.jpg")
    assert medium.status_code == 200
    lake.refresh_from_db()
    assert lake.has(Image.CHAIN_MEDIUM)


def busy_site() -> ChevSite:
    site = ChevSite(salt="0123abcd", padding=999)
    users = [site.user(f"user{n}") for n in range(1, 6)]
    for n, owner in enumerate(users):
        site.album(owner, f"Album {n}")
    for n in range(1, 26):
        owner = users[n % 5]
        site.image(owner, album_id=owner.id, title=f"Picture {n}", tags=(f"t{n % 3}",))
    site.likes += [SrcLike(users[(n + 1) % 5].id, "image", n) for n in range(1, 26)]
    site.follows += [SrcFollow(a.id, b.id) for a in users for b in users if a is not b]
    return site


@pytest.fixture
def busy(db: None, mariadb: str, old_media: Path) -> Iterator[str]:
    url = busy_site().create(server_url=mariadb, media_root=old_media)
    try:
        yield read_only_url(url)
    finally:
        drop(url)


def assert_imported_once(job: ImportJob, media_root: Path, *, skipped: int = 0) -> None:
    assert job.status == ImportJob.Status.DONE, job.error
    assert Image.objects.count() == 25
    assert Album.objects.count() == 5
    assert User.objects.count() == 5
    assert Like.objects.count() == 25
    assert Follow.objects.count() == 20
    items = list(ImportItem.objects.filter(job=job).values_list("key", flat=True))
    assert len(items) == len(set(items)) == 5 + 5 + 25 + 25 + 20
    assert (job.processed, job.failed) == (80, 0)
    assert (job.imported, job.skipped) == (80 - skipped, skipped)
    # Every original and thumb exactly once: no copy left under another name.
    assert len(files_under(media_root)) == 50
    assert sorted(User.objects.values_list("image_count", flat=True)) == [5] * 5
    assert sorted(Album.objects.values_list("image_count", flat=True)) == [5] * 5
    assert sorted(User.objects.values_list("followers_count", flat=True)) == [4] * 5


def test_an_import_that_failed_halfway_resumes_without_duplicates(
    busy: str, old_media: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chevereto_images, "PAGE", 4)
    monkeypatch.setattr(chevereto, "PAGE", 4)
    real_copy = chevereto_images.copy_into
    calls = {"n": 0}

    def copy_then_fail(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 23:  # mid-page: some files of the page copied, no rows written
            raise RuntimeError("the disk went away")
        return real_copy(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(chevereto_images, "copy_into", copy_then_fail)
    job = run_import(busy, old_media)
    assert job.status == ImportJob.Status.FAILED
    assert "the disk went away" in job.error
    assert 0 < Image.objects.count() < 25
    assert job.state["phase"] == "images"

    monkeypatch.setattr(chevereto_images, "copy_into", real_copy)
    import_job_resume(job=job, actor=None, source="command", enqueue=False)
    assert_imported_once(job_run(job.pk), media_root)


class ProcessKilled(BaseException):
    """Stands for the process dying: nothing in the runner catches it."""


def die_after_like_page(monkeypatch: pytest.MonkeyPatch, page: int) -> Callable[[], None]:
    """The import's process "dies" right after writing likes page number `page`, before
    saving its cursor; returns what puts the real page back."""
    real_page = chevereto._Importer._like_page
    pages = {"n": 0}

    def page_then_die(self: chevereto._Importer, rows: list[dict[str, object]]) -> None:
        pages["n"] += 1
        real_page(self, rows)
        if pages["n"] == page:
            raise ProcessKilled

    monkeypatch.setattr(chevereto._Importer, "_like_page", page_then_die)
    return lambda: monkeypatch.setattr(chevereto._Importer, "_like_page", real_page)


def gone_stale(job: ImportJob) -> None:
    """The dead run's heartbeat is old: another run may take the job over."""
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_an_import_whose_process_died_is_taken_over_once_stale(
    busy: str, old_media: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chevereto, "PAGE", 7)
    revive = die_after_like_page(monkeypatch, 2)
    with pytest.raises(ProcessKilled):
        run_import(busy, old_media)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.RUNNING
    assert job_run(job.pk).status == ImportJob.Status.RUNNING  # still owned by the "dead" run

    revive()
    gone_stale(job)
    # The rows of the page written when the process died are there, its items (written at
    # the next tick) are not: the resumed run finds the rows and counts them as skipped.
    assert_imported_once(job_run(job.pk), media_root, skipped=7)


def test_issues_of_a_page_the_process_died_on_are_not_reported_twice(
    db: None, mariadb: str, old_media: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = busy_site()
    # Two likes of an upload the old site no longer has: issues of the likes' last page.
    site.likes += [SrcLike(site.users[0].id, "image", 999), SrcLike(site.users[1].id, "image", 998)]
    url = site.create(server_url=mariadb, media_root=old_media)
    monkeypatch.setattr(chevereto, "PAGE", 9)
    revive = die_after_like_page(monkeypatch, 3)  # the page with the two issues
    try:
        with pytest.raises(ProcessKilled):
            run_import(read_only_url(url), old_media)
        job = ImportJob.objects.get()
        assert job.failed == 2
        revive()
        gone_stale(job)
        job = job_run(job.pk)
    finally:
        drop(url)
    assert job.status == ImportJob.Status.DONE, job.error
    assert Like.objects.count() == 25
    # Each orphan once: reported, counted and recorded as an item a single time.
    assert sorted(job.issues.values_list("key", "kind")) == [
        ("like:26", "orphan"),
        ("like:27", "orphan"),
    ]
    assert (job.processed, job.failed) == (82, 2)
    assert ImportItem.objects.filter(job=job, key__in=["like:26", "like:27"]).count() == 2


def test_the_source_is_only_read(busy: str, old_media: Path) -> None:
    # `busy` hands the importer an account with SELECT only: a write would have failed it.
    job = run_import(busy, old_media)
    assert job.status == ImportJob.Status.DONE, job.error
    assert "reader" in busy


def test_a_wrong_prefix_fails_the_job_with_a_clear_message(busy: str, old_media: Path) -> None:
    job = run_import(busy, old_media, prefix="nope_")
    assert job.status == ImportJob.Status.FAILED
    assert "No Chevereto tables with the prefix 'nope_'" in job.error


def test_an_unreachable_database_fails_the_job_with_a_clear_message(
    db: None, old_media: Path
) -> None:
    job = run_import("mysql://nobody:x@127.0.0.1:1/none", old_media)
    assert job.status == ImportJob.Status.FAILED
    assert "Cannot connect to the Chevereto database" in job.error
    assert os.path.isdir(old_media)


def test_a_process_dying_right_after_a_page_of_uploads_leaves_no_duplicate(
    busy: str, old_media: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chevereto_images, "PAGE", 6)
    real_page = chevereto_images.ImageImporter.page
    pages = {"n": 0}

    def page_then_die(self: chevereto_images.ImageImporter, rows: list[dict[str, object]]) -> None:
        pages["n"] += 1
        real_page(self, rows)
        if pages["n"] == 3:
            raise ProcessKilled  # the page's rows committed, its items and cursor not

    monkeypatch.setattr(chevereto_images.ImageImporter, "page", page_then_die)
    with pytest.raises(ProcessKilled):
        run_import(busy, old_media)
    monkeypatch.setattr(chevereto_images.ImageImporter, "page", real_page)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert_imported_once(job_run(job.pk), media_root, skipped=6)


def test_an_import_run_in_time_slices_by_the_worker_ends_the_same(
    busy: str, old_media: Path, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imports.services import import_job_create

    monkeypatch.setattr(chevereto_images, "PAGE", 5)
    monkeypatch.setattr(chevereto, "PAGE", 5)
    job = import_job_create(
        kind=ImportJob.Kind.CHEVERETO,
        options={"db": busy, "media": str(old_media)},
        actor=None,
        enqueue=False,
    )
    slices = 0
    while job.status != ImportJob.Status.DONE:
        slices += 1
        assert slices < 100, job.error
        # A budget already spent: every slice stops at its first tick, one page each.
        job = job_run(job.pk, time_budget=0)
        assert job.status in (ImportJob.Status.QUEUED, ImportJob.Status.DONE), job.error
    assert slices > 10
    assert_imported_once(job, media_root)


def test_the_command_resumes_a_failed_import_with_its_job_id(
    busy: str,
    old_media: Path,
    media_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    monkeypatch.setattr(chevereto_images, "PAGE", 4)
    real_copy = chevereto_images.copy_into
    calls = {"n": 0}

    def copy_then_fail(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 9:
            raise RuntimeError("the disk went away")
        return real_copy(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(chevereto_images, "copy_into", copy_then_fail)
    with pytest.raises(CommandError, match=r"the disk went away.*resume with --job"):
        call_command("import_chevereto", db=busy, media=str(old_media), no_progress=True)
    job = ImportJob.objects.get()
    monkeypatch.setattr(chevereto_images, "copy_into", real_copy)
    call_command("import_chevereto", job=job.pk, no_progress=True)
    assert f"job {job.pk} done" in capsys.readouterr().out
    assert_imported_once(ImportJob.objects.get(), media_root)
