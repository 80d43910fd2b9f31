"""`manage.py import_chevereto --db mysql://USER:PASS@HOST:PORT/DB --media ROOT [--prefix chv_]
[--job ID]` (see imports.chevereto)."""

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
        "Import a Chevereto V3/V4 site into this (fresh) one: users with their passwords, "
        "albums, uploads with their files, tags, categories, likes and follows, keeping "
        "every id, so old URLs keep working. The database is only read (a read-only account "
        "is enough). Interrupted? Run it again with --job ID: nothing is imported twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--db", help="the Chevereto database: mysql://USER:PASS@HOST:PORT/DB")
        parser.add_argument("--media", help="the Chevereto folder that holds images/")
        parser.add_argument("--prefix", default="chv_", help="table prefix (default chv_)")
        parser.add_argument("--job", type=int, help="resume this import job instead")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        job = self._resumed(options["job"]) if options["job"] else self._created(options)
        self.stdout.write(f"import job {job.pk}: Chevereto site from {job.options['media']}")
        bar = on_progress(desc=f"import #{job.pk}", unit="row", disable=options["no_progress"])
        with bar:
            job = job_run(job.pk, on_progress=bar)
        self._report(job)

    def _created(self, options: dict[str, Any]) -> ImportJob:
        if not options["db"] or not options["media"]:
            raise CommandError("Give --db and --media (or --job ID to resume an import).")
        try:
            return import_job_create(
                kind=ImportJob.Kind.CHEVERETO,
                options={
                    "db": options["db"],
                    "media": options["media"],
                    "prefix": options["prefix"],
                },
                actor=None,
                enqueue=False,
                source="command",
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _resumed(self, job_id: int) -> ImportJob:
        job = ImportJob.objects.filter(pk=job_id, kind=ImportJob.Kind.CHEVERETO).first()
        if job is None:
            raise CommandError(f"No Chevereto import job {job_id}.")
        if job.status == ImportJob.Status.QUEUED:
            return job
        try:
            return import_job_resume(job=job, actor=None, source="command", enqueue=False)
        except ImportJobConflict as exc:
            raise CommandError(f"Job {job_id} cannot be resumed: {exc}") from None

    def _report(self, job: ImportJob) -> None:
        for issue in ImportIssue.objects.filter(job=job)[:SHOWN_ISSUES]:
            self.stdout.write(f"  {issue.kind}: {issue.key}: {issue.message}")
        more = ImportIssue.objects.filter(job=job).count() - SHOWN_ISSUES
        if more > 0:
            self.stdout.write(f"  ... and {more} more issues")
        self.stdout.write(
            f"job {job.pk} {job.status}: {job.imported} imported, {job.skipped} skipped, "
            f"{job.failed} failed of {job.total}"
        )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"{job.error} (resume with --job {job.pk})")
        if job.status == ImportJob.Status.RUNNING:
            raise CommandError(f"Job {job.pk} is being run by another process.")
