"""Celery tasks of the social layer. Each is safe to run twice (and twice at once)."""

from __future__ import annotations

import logging

from celery import shared_task

from uploads.viewcounts import views_fold

log = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def fold_views() -> int:
    """Run by beat every minute: add pending page views to the image and album counters."""
    folded = views_fold()
    if folded:
        log.info("folded %s page views", folded)
    return folded
