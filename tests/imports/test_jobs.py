"""Import jobs: their services (audited, compare-and-swap), the runner and the task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chevereto.core.models import AuditEntry
from imports import folder
from imports.models import ImportIssue, ImportItem, ImportJob
from imports.runner import ImportContext, job_claim, job_run
from imports.services import (
    ImportJobConflict,
    import_job_cancel,
    import_job_create,
    import_job_delete,
    import_job_options_public,
    import_job_pause,
    import_job_process,
    import_job_reset,
    import_job_resume,
    import_job_update,
)
from imports.tasks import import_run
from tests.factories import make_user
from tests.samples import jpeg_bytes
from uploads.models import Image

pytestmark = pytest.mark.django_db
S = ImportJob.Status


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    for n in range(6):
        (root / f"p{n}.jpg").write_bytes(jpeg_bytes(color=(n * 30, 10, 10)))
    (root / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    return root


@pytest.fixture
def job(photos: Path) -> ImportJob:
    make_user("ana")
    return import_job_create(
        kind="folder", options={"path": str(photos), "user": "ana"}, actor=None, enqueue=False
    )


def test_options_are_checked_per_kind(photos: Path) -> None:
    make_user("ana")
    with pytest.raises(ValidationError, match="Unknown import kind"):
        import_job_create(kind="zip", options={}, actor=None)
    with pytest.raises(ValidationError, match="not a folder"):
        import_job_create(kind="folder", options={"path": "/no/such"}, actor=None)
    with pytest.raises(ValidationError, match="Unknown options"):
        import_job_create(kind="folder", options={"path": str(photos), "x": 1}, actor=None)
    with pytest.raises(ValidationError, match="mysql://"):
        import_job_create(kind="chevereto", options={"db": "postgres://h/d"}, actor=None)
    with pytest.raises(ValidationError, match="prefix"):
        import_job_create(
            kind="chevereto",
            options={"db": "mysql://u:p@h/d", "media": str(photos), "prefix": "x;drop"},
            actor=None,
        )
    assert not ImportJob.objects.exists()


def test_a_chevereto_jobs_password_is_never_shown(photos: Path) -> None:
    job = import_job_create(
        kind="chevereto",
        options={"db": "mysql://reader:s3cret@db.example:3306/site", "media": str(photos)},
        actor=None,
        enqueue=False,
    )
    assert job.options["prefix"] == "chv_"
    assert import_job_options_public(job)["db"] == "mysql://reader:***@db.example:3306/site"


def test_creating_queues_the_run_after_commit_and_the_worker_imports(
    photos: Path, django_capture_on_commit_callbacks: object
) -> None:
    make_user("ana")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        job = import_job_create(
            kind="folder", options={"path": str(photos), "user": "ana"}, actor=None
        )
    job.refresh_from_db()
    assert (job.status, job.imported, job.failed) == (S.DONE, 6, 1)


def test_every_action_writes_one_audit_entry(job: ImportJob) -> None:
    admin = make_user("root", is_staff=True)
    import_job_pause(job=job, actor=admin, ip="198.51.100.4")
    import_job_resume(job=job, actor=admin, enqueue=False)
    import_job_cancel(job=job, actor=admin)
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["import.create", "import.pause", "import.resume", "import.cancel"]
    pause = AuditEntry.objects.get(action="import.pause")
    assert (pause.actor, pause.ip, pause.target_id) == (admin, "198.51.100.4", str(job.pk))


def test_pausing_stops_a_running_import_at_its_next_batch(
    job: ImportJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder, "TICK_FILES", 2)
    real_done = ImportContext.done_later

    def pause_midway(self: ImportContext, key: str, *a: object, **kw: object) -> bool:
        if key == "p2.jpg":
            ImportJob.objects.filter(pk=self.job.pk).update(status=S.PAUSED)
        return real_done(self, key, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ImportContext, "done_later", pause_midway)
    job = job_run(job.pk)
    assert job.status == S.PAUSED
    assert Image.objects.count() < 6
    monkeypatch.setattr(ImportContext, "done_later", real_done)
    import_job_resume(job=job, actor=None, enqueue=False)
    job = job_run(job.pk)
    assert (job.status, Image.objects.count(), job.imported) == (S.DONE, 6, 6)


def test_a_cancelled_job_is_not_run_and_cannot_be_resumed(job: ImportJob) -> None:
    import_job_cancel(job=job, actor=None)
    assert job_run(job.pk).status == S.CANCELLED
    assert not Image.objects.exists()
    with pytest.raises(ImportJobConflict):
        import_job_resume(job=job, actor=None)
    with pytest.raises(ImportJobConflict):
        import_job_cancel(job=job, actor=None)


def test_a_running_job_cannot_be_changed_reset_or_deleted(job: ImportJob) -> None:
    assert job_claim(job.pk) is not None
    with pytest.raises(ImportJobConflict):
        import_job_update(job=job, options={"album": "x"}, actor=None)
    with pytest.raises(ImportJobConflict):
        import_job_reset(job=job, actor=None)
    with pytest.raises(ImportJobConflict):
        import_job_delete(job=job, actor=None)
    with pytest.raises(ImportJobConflict):
        import_job_resume(job=job, actor=None)


def test_two_processes_never_run_the_same_job(job: ImportJob) -> None:
    assert job_claim(job.pk) is not None
    assert job_claim(job.pk) is None
    # Its process died: once the heartbeat is old, the job may be taken over.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now().replace(year=2000))
    assert job_claim(job.pk) is not None


def test_reset_retries_the_failed_files_and_never_imports_twice(job: ImportJob) -> None:
    job = job_run(job.pk)
    assert (job.imported, job.failed) == (6, 1)
    bad = Path(job.options["path"]) / "bad.jpg"
    bad.write_bytes(jpeg_bytes(color=(1, 99, 1)))
    import_job_reset(job=job, actor=None, enqueue=False)
    assert (job.status, job.failed, job.imported, job.total) == (S.QUEUED, 0, 6, 0)
    assert not ImportIssue.objects.filter(job=job).exists()
    job = job_run(job.pk)
    assert (job.status, job.imported, job.failed, job.processed, job.total) == (
        S.DONE,
        7,
        0,
        7,
        7,
    )
    assert Image.objects.count() == 7


def test_process_starts_a_job_made_without_a_run(
    job: ImportJob, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        import_job_process(job=job, actor=None)
    job.refresh_from_db()
    assert job.status == S.DONE


def test_changing_options_while_stopped_and_the_folder_is_fixed_once_started(
    job: ImportJob, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_ROOTS = [str(tmp_path)]  # the service's default caller is the API
    import_job_update(job=job, options={"album": "Inbox"}, actor=None)
    assert job.options["album"] == "Inbox"
    ImportItem.objects.create(job=job, key="p0.jpg", target_id=None)
    with pytest.raises(ImportJobConflict, match="folder"):
        import_job_update(job=job, options={"path": str(tmp_path)}, actor=None)


def test_the_task_runs_in_slices_and_queues_the_rest(
    job: ImportJob, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder, "TICK_FILES", 1)
    monkeypatch.setattr("imports.tasks.SLICE_SECONDS", 0.0)
    seen: list[str | None] = []
    real_delay = import_run.delay

    def count_slices(job_id: int) -> object:
        seen.append("slice")
        return real_delay(job_id)

    monkeypatch.setattr(import_run, "delay", count_slices)
    # The first slice ends after one file; each next slice is queued by the one before
    # (run inline here, as Celery runs eager tasks in the tests).
    assert import_run(job.pk) == S.QUEUED
    job.refresh_from_db()
    assert (job.status, job.imported, job.failed) == (S.DONE, 6, 1)
    assert len(seen) >= 6


def test_the_task_is_quiet_about_a_deleted_job(job: ImportJob) -> None:
    import_job_delete(job=job, actor=None)
    assert import_run(job.pk) is None


def test_deleting_a_job_keeps_what_it_imported(job: ImportJob) -> None:
    job_run(job.pk)
    import_job_delete(job=job, actor=None)
    assert Image.objects.count() == 6
    assert not ImportItem.objects.exists()
