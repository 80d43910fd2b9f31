"""What the import commands share: start a job or resume one (`--job ID`), run it here with
a progress bar, and print its outcome."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.models import ImportIssue, ImportJob
from imports.progress import on_progress
from imports.runner import job_run
from imports.services import ImportJobConflict, import_job_create, import_job_resume

# Issues printed at the end; the rest are in the dashboard and the API.
SHOWN_ISSUES = 20


class ImportCommand(BaseCommand):
    kind: ClassVar[str]
    # The progress bar's unit ("file", "row"), and what the job imports ("folder").
    unit: ClassVar[str]
    noun: ClassVar[str]

    def add_job_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--job", type=int, help="resume this import job instead")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The new job's options from the command line (CommandError when some are missing)."""
        raise NotImplementedError

    def describe(self, job: ImportJob) -> str:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        job = self._resumed(options["job"]) if options["job"] else self._created(options)
        self.stdout.write(f"import job {job.pk}: {self.describe(job)}")
        bar = on_progress(desc=f"import #{job.pk}", unit=self.unit, disable=options["no_progress"])
        with bar:
            job = job_run(job.pk, on_progress=bar)
        self._report(job)

    def _created(self, options: dict[str, Any]) -> ImportJob:
        try:
            return import_job_create(
                kind=self.kind,
                options=self.job_options(options),
                actor=None,
                enqueue=False,
                source="command",
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _resumed(self, job_id: int) -> ImportJob:
        job = ImportJob.objects.filter(pk=job_id, kind=self.kind).first()
        if job is None:
            raise CommandError(f"No {self.noun} import job {job_id}.")
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
