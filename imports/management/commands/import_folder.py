"""`manage.py import_folder PATH [--user U] [--album A] [--job ID]` (see imports.folder)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.models import ImportIssue, ImportJob
from imports.progress import on_progress
from imports.runner import job_run
from imports.services import ImportJobConflict, import_job_create, import_job_resume

# Issues printed at the end; the rest are in the dashboard and the API.
SHOWN_ISSUES = 20


class Command(BaseCommand):
    help = (
        "Import every file of a folder through the upload pipeline, each subfolder an album "
        "(nested folders make nested albums). The files belong to --user, or to the first "
        "superuser when none is given. Unsupported or corrupt files are reported, the rest "
        "imported. Interrupted? Run it again with --job ID: nothing is imported twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the folder to import")
        parser.add_argument("--user", help="owner of the uploads (username or id)")
        parser.add_argument(
            "--album",
            help="album (name, made when missing, or numeric id) for the top-level files; "
            "subfolders become its sub-albums",
        )
        parser.add_argument("--job", type=int, help="resume this import job instead")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        job = self._resumed(options["job"]) if options["job"] else self._created(options)
        self.stdout.write(f"import job {job.pk}: {job.options['path']}")
        bar = on_progress(desc=f"import #{job.pk}", unit="file", disable=options["no_progress"])
        with bar:
            job = job_run(job.pk, on_progress=bar)
        self._report(job)

    def _created(self, options: dict[str, Any]) -> ImportJob:
        if not options["path"]:
            raise CommandError("Give the folder to import (or --job ID to resume one).")
        album: str | int | None = options["album"]
        if isinstance(album, str) and album.isdigit():
            album = int(album)
        try:
            return import_job_create(
                kind=ImportJob.Kind.FOLDER,
                options={"path": options["path"], "user": options["user"], "album": album},
                actor=None,
                enqueue=False,
                source="command",
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _resumed(self, job_id: int) -> ImportJob:
        job = ImportJob.objects.filter(pk=job_id, kind=ImportJob.Kind.FOLDER).first()
        if job is None:
            raise CommandError(f"No folder import job {job_id}.")
        if job.status == ImportJob.Status.QUEUED:
            return job
        try:
            return import_job_resume(job=job, actor=None, source="command", enqueue=False)
        except ImportJobConflict as exc:
            raise CommandError(f"Job {job_id} cannot be resumed: {exc}") from None

    def _report(self, job: ImportJob) -> None:
        for issue in ImportIssue.objects.filter(job=job)[:SHOWN_ISSUES]:
            self.stdout.write(f"  {issue.kind}: {issue.key}: {issue.message}")
        if job.failed > SHOWN_ISSUES:
            self.stdout.write(f"  ... and {job.failed - SHOWN_ISSUES} more issues")
        self.stdout.write(
            f"job {job.pk} {job.status}: {job.imported} imported, {job.skipped} skipped, "
            f"{job.failed} failed of {job.total}"
        )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"{job.error} (resume with --job {job.pk})")
        if job.status == ImportJob.Status.RUNNING:
            raise CommandError(f"Job {job.pk} is being run by another process.")
