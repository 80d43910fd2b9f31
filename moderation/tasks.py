"""Celery tasks of moderation. Each takes a primary key and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=540, time_limit=600)
def purge_run(job_id: int) -> None:
    """Run a share of a purge, then queue the next share until it is done."""
    from moderation.models import PurgeJob
    from moderation.services import PURGE_BATCHES_PER_RUN, purge_enqueue
    from moderation.services import purge_run as run

    job = run(job_id=job_id, max_batches=PURGE_BATCHES_PER_RUN)
    if job is not None and job.status != PurgeJob.Status.DONE:
        purge_enqueue(job_id=job_id)


@shared_task(acks_late=True)
def purge_resume() -> int:
    """Run by beat: queue the purges that no live worker holds (a worker died, or the
    broker was down when they were started)."""
    from moderation.services import purge_enqueue, purges_to_resume

    job_ids = purges_to_resume()
    for job_id in job_ids:
        purge_enqueue(job_id=job_id)
    if job_ids:
        log.info("resumed %s purges", len(job_ids))
    return len(job_ids)
