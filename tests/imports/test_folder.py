"""import_folder: every file through the upload pipeline, folders as albums, resumable."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from albums.models import Album
from chevereto.core.models import AuditEntry, SiteSettings
from imports import folder
from imports.models import ImportIssue, ImportItem, ImportJob
from imports.runner import job_run
from imports.services import import_job_create, import_job_reset
from tests.factories import make_album, make_user
from tests.samples import jpeg_bytes, png_bytes
from uploads.models import Image

pytestmark = pytest.mark.django_db


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Two top-level photos, a trip with a nested day, a broken JPEG and a PDF."""
    root = tmp_path / "photos"
    write(root, "a.jpg", jpeg_bytes(color=(1, 2, 3)))
    write(root, "b.png", png_bytes())
    write(root, "trips/lisbon.jpg", jpeg_bytes(color=(40, 50, 60)))
    write(root, "trips/day two/tram.jpg", jpeg_bytes(color=(70, 80, 90)))
    write(root, "trips/broken.jpg", jpeg_bytes()[:200])
    write(root, "notes.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
    write(root, ".DS_Store", b"\0\0\0\1Bud1")
    return root


def run_import(root: Path, **options: object) -> ImportJob:
    out = io.StringIO()
    call_command("import_folder", str(root), "--no-progress", stdout=out, **options)
    return ImportJob.objects.get()


def test_it_imports_every_file_and_makes_each_subfolder_an_album(tree: Path) -> None:
    owner = make_user("ana")
    job = run_import(tree, user="ana")
    assert job.status == ImportJob.Status.DONE
    assert (job.total, job.imported, job.failed) == (6, 4, 2)
    names = dict(Image.objects.filter(user=owner).values_list("original_filename", "album__name"))
    assert names == {"a.jpg": None, "b.png": None, "lisbon.jpg": "trips", "tram.jpg": "day two"}
    day_two = Album.objects.get(name="day two")
    assert day_two.parent == Album.objects.get(name="trips", owner=owner)
    assert Album.objects.get(name="trips").image_count == 1
    # The admin's folder is left as it was: the pipeline got copies.
    assert (tree / "a.jpg").exists() and (tree / "trips/day two/tram.jpg").exists()


def test_it_reports_corrupt_and_unsupported_files_and_imports_the_rest(tree: Path) -> None:
    make_user("ana")
    job = run_import(tree, user="ana")
    issues = {i.key: i.kind for i in ImportIssue.objects.filter(job=job)}
    assert issues == {"trips/broken.jpg": "corrupt", "notes.pdf": "unsupported"}
    assert Image.objects.count() == 4


def test_top_level_files_go_into_the_named_album_and_subfolders_under_it(tree: Path) -> None:
    owner = make_user("ana")
    existing = make_album(owner=owner, name="Inbox")
    run_import(tree, user="ana", album="Inbox")
    assert Image.objects.get(original_filename="a.jpg").album == existing
    assert Album.objects.get(name="trips").parent == existing


def test_without_a_user_the_first_superuser_owns_the_import(tree: Path) -> None:
    make_user("someone")
    boss = User.objects.create_superuser(
        username="boss", email="b@example.com", password="x-1!aaaa"
    )
    run_import(tree)
    assert set(Image.objects.values_list("user", flat=True)) == {boss.pk}


def test_flood_limits_do_not_stop_an_admin_import_into_a_users_account(tree: Path) -> None:
    site = SiteSettings.load()
    site.flood_protection = True
    site.flood_per_minute = 1
    site.save()
    SiteSettings.clear_cache()
    make_user("ana")
    job = run_import(tree, user="ana")
    assert job.imported == 4


def test_a_refused_duplicate_is_skipped_not_failed(tree: Path) -> None:
    site = SiteSettings.load()
    site.duplicate_policy = SiteSettings.DuplicatePolicy.REFUSE
    site.save()
    SiteSettings.clear_cache()
    write(tree, "copy-of-a.jpg", (tree / "a.jpg").read_bytes())
    make_user("ana")
    job = run_import(tree, user="ana")
    assert (job.imported, job.skipped, job.failed) == (4, 1, 2)
    item = ImportItem.objects.get(job=job, key="copy-of-a.jpg")
    assert item.target_id == Image.objects.get(original_filename="a.jpg").pk


def test_an_interrupted_import_resumes_without_duplicates(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_user("ana")
    job = import_job_create(
        kind="folder", options={"path": str(tree), "user": "ana"}, actor=None, enqueue=False
    )
    # Small batches: the first two uploads are recorded before the crash, the third is not.
    monkeypatch.setattr(folder, "TICK_FILES", 2)
    real_done = folder.ImportContext.done_later
    calls = {"n": 0}

    def crash_after_the_third_upload(self: object, key: str, *args: object, **kw: object) -> bool:
        # The third file is stored and its row made, then the process dies before the
        # import records it: the worst moment for a duplicate.
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_done(self, key, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(folder.ImportContext, "done_later", crash_after_the_third_upload)
    with pytest.raises(KeyboardInterrupt):
        job_run(job.pk)
    monkeypatch.setattr(folder.ImportContext, "done_later", real_done)
    assert Image.objects.count() == 3
    assert ImportItem.objects.filter(job=job, key__in=["a.jpg", "b.png"]).count() == 2
    # The process died: its job stays RUNNING until the heartbeat is old enough.
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at="2000-01-01T00:00:00Z")

    call_command("import_folder", "--job", str(job.pk), "--no-progress", stdout=io.StringIO())

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Image.objects.filter(user=owner).count() == 4
    assert sorted(Image.objects.values_list("original_filename", flat=True)) == [
        "a.jpg",
        "b.png",
        "lisbon.jpg",
        "tram.jpg",
    ]
    assert Album.objects.filter(name="trips").count() == 1
    assert ImportIssue.objects.filter(job=job).count() == 2
    # Its progress counts every file once: the dead run's counts went with its items.
    assert (job.total, job.processed, job.imported, job.failed) == (6, 6, 4, 2)


def test_running_the_finished_job_again_imports_nothing(tree: Path) -> None:
    make_user("ana")
    job = run_import(tree, user="ana")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PAUSED)
    call_command("import_folder", "--job", str(job.pk), "--no-progress", stdout=io.StringIO())
    job.refresh_from_db()
    assert Image.objects.count() == 4
    assert (job.processed, job.failed) == (6, 2)


def test_a_link_out_of_the_folder_is_not_followed(tree: Path, tmp_path: Path) -> None:
    secret = write(tmp_path, "elsewhere/secret.jpg", jpeg_bytes(color=(9, 9, 9)))
    (tree / "link.jpg").symlink_to(secret)
    make_user("ana")
    job = run_import(tree, user="ana")
    assert ImportIssue.objects.get(job=job, key="link.jpg").kind == "unsupported"
    assert not Image.objects.filter(original_filename="link.jpg").exists()


def test_the_command_refuses_a_missing_folder_or_user(tmp_path: Path) -> None:
    make_user("ana")
    with pytest.raises(CommandError, match="not a folder"):
        call_command("import_folder", str(tmp_path / "nope"), "--user", "ana")
    with pytest.raises(CommandError, match="No user 'bob'"):
        call_command("import_folder", str(tmp_path), "--user", "bob")
    assert not ImportJob.objects.exists()


def test_the_command_is_audited_once(tree: Path) -> None:
    make_user("ana")
    job = run_import(tree, user="ana")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.target_id) == (
        "import.create",
        "command",
        str(job.pk),
    )


def test_a_folder_that_disappears_fails_the_job_which_can_be_resumed(tree: Path) -> None:
    make_user("ana")
    job = import_job_create(
        kind="folder", options={"path": str(tree), "user": "ana"}, actor=None, enqueue=False
    )
    tree.rename(tree.with_name("moved"))
    job = job_run(job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert "is not there" in job.error
    tree.with_name("moved").rename(tree)
    call_command("import_folder", "--job", str(job.pk), "--no-progress", stdout=io.StringIO())
    job.refresh_from_db()
    assert (job.status, job.imported) == (ImportJob.Status.DONE, 4)


def _killer(monkeypatch: pytest.MonkeyPatch, killing: str) -> dict[str, int]:
    """Make importing `killing` end the process (KeyboardInterrupt, which the runner does
    not catch, stands for a crash in a decoder's native code); count the attempts."""
    real = folder._import_file
    tries = {"n": 0}

    def import_file(ctx: object, *, key: str, **kw: object) -> None:
        if key == killing:
            tries["n"] += 1
            raise KeyboardInterrupt
        real(ctx, key=key, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(folder, "_import_file", import_file)
    return tries


def _folder_job(tree: Path) -> ImportJob:
    make_user("ana")
    return import_job_create(
        kind="folder", options={"path": str(tree), "user": "ana"}, actor=None, enqueue=False
    )


def _run_and_die(job: ImportJob) -> ImportJob:
    """Run the job until its process dies; like beat, take it over once its heartbeat is
    old (the dead process's job stays RUNNING until then)."""
    with pytest.raises(KeyboardInterrupt):
        job_run(job.pk)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at="2000-01-01T00:00:00Z")
    job.refresh_from_db()
    return job


def test_a_file_that_kills_the_process_every_time_is_skipped_on_the_third_death(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _folder_job(tree)
    tries = _killer(monkeypatch, "trips/lisbon.jpg")
    job = _run_and_die(job)
    # The first death says nothing of its file: no run wrote down what it was on.
    assert "current" not in job.state
    job = _run_and_die(job)
    # Taken over, the run went carefully and wrote down the file it died on.
    assert job.state["current"] == "trips/lisbon.jpg"
    job = _run_and_die(job)
    assert job.state["crashes"] == {"trips/lisbon.jpg": 1}
    assert not ImportIssue.objects.filter(job=job, kind="crashed").exists()

    job = job_run(job.pk)

    assert tries["n"] == 3
    assert job.status == ImportJob.Status.DONE
    issue = ImportIssue.objects.get(job=job, kind="crashed")
    assert issue.key == "trips/lisbon.jpg"
    assert "died on it 2 times" in issue.message
    assert "current" not in job.state and job.state["crashes"] == {}
    # Everything after it was imported, nothing twice.
    assert sorted(Image.objects.values_list("original_filename", flat=True)) == [
        "a.jpg",
        "b.png",
        "tram.jpg",
    ]
    issues = dict(ImportIssue.objects.filter(job=job).values_list("key", "kind"))
    assert issues == {
        "trips/lisbon.jpg": "crashed",
        "trips/broken.jpg": "corrupt",
        "notes.pdf": "unsupported",
    }
    # The counts lost with each dead run's last batch were lost with its items: they agree.
    assert (job.total, job.processed, job.imported, job.failed) == (6, 6, 3, 3)

    # A reset tries it again: with the file fixed (here, the process no longer dies on it)
    # it is imported.
    monkeypatch.undo()
    reset = import_job_reset(job=job, actor=None, source="command", enqueue=False)
    job = job_run(reset.pk)
    assert job.status == ImportJob.Status.DONE
    assert Image.objects.filter(original_filename="lisbon.jpg").count() == 1
    assert not ImportIssue.objects.filter(job=job, kind="crashed").exists()


def test_one_death_on_a_file_does_not_make_it_an_issue(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A deploy's restart that happens to stop the careful run: the file was innocent.
    job = _folder_job(tree)
    _killer(monkeypatch, "b.png")
    _run_and_die(job)
    _run_and_die(job)
    monkeypatch.undo()

    job = job_run(job.pk)

    assert job.status == ImportJob.Status.DONE
    assert not ImportIssue.objects.filter(job=job, kind="crashed").exists()
    assert Image.objects.count() == 4
    assert "current" not in job.state
    # a.jpg, made by the first run and found by the second (which died before its first
    # tick), is counted once.
    assert (job.total, job.processed, job.imported, job.failed) == (6, 6, 4, 2)


def test_a_run_that_did_not_crash_writes_no_item_down(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a careful run (after a death) pays a write per file.
    make_user("ana")
    written: list[dict[str, object]] = []
    real = folder.ImportContext.save_state

    def save_state(self: object, **values: object) -> None:
        written.append(values)
        real(self, **values)  # type: ignore[arg-type]

    monkeypatch.setattr(folder.ImportContext, "save_state", save_state)
    job = run_import(tree, user="ana")
    assert job.status == ImportJob.Status.DONE
    assert written and not any("current" in values for values in written)
    assert "current" not in job.state and "crashes" not in job.state
