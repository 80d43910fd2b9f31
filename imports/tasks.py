"""Celery tasks of imports. Each takes a job's primary key and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from imports.models import ImportJob
from imports.runner import job_run

log = logging.getLogger(__name__)

# One task run imports for at most this long, then queues the rest as a new task: a worker
# is never held for hours, and a deploy's restart loses at most one slice.
SLICE_SECONDS = 240.0


@shared_task(acks_late=True, soft_time_limit=SLICE_SECONDS + 240, time_limit=SLICE_SECONDS + 300)
def import_run(job_id: int) -> str | None:
    """Run a slice of the job; queue the next slice when it is not finished."""
    if not ImportJob.objects.filter(pk=job_id).exists():
        return None
    job = job_run(job_id, time_budget=SLICE_SECONDS)
    if job.status == ImportJob.Status.QUEUED:
        import_run.delay(job_id)
    log.info("import %s: %s", job_id, job.status)
    return str(job.status)


@shared_task(acks_late=True)
def imports_resume_stale() -> int:
    """For beat: queue again every running job whose process died (old heartbeat)."""
    from django.utils import timezone

    from imports.runner import STALE_AFTER

    stale = list(
        ImportJob.objects.filter(
            status=ImportJob.Status.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER
        ).values_list("pk", flat=True)
    )
    for job_id in stale:
        import_run.delay(job_id)
    return len(stale)
