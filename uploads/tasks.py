"""Celery tasks of uploads. Each takes a primary key and is safe to run twice."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task

from uploads.derivatives import DerivativeFailed, image_derivatives_generate

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    # Storage that is briefly unreachable (disk, network, S3) is worth another try.
    autoretry_for=(OSError, BotoCoreError, ClientError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
)
def generate_derivatives(self: object, image_id: int) -> None:
    try:
        image_derivatives_generate(image_id=image_id)
    except DerivativeFailed as exc:
        # A file that cannot be decoded will not decode on a retry either.
        log.warning("derivatives of image %s failed: %s", image_id, exc)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def purge_expired() -> int:
    """Run by beat every minute: delete expired uploads in bounded batches."""
    from uploads.expiry import images_purge_expired

    deleted = images_purge_expired()
    if deleted:
        log.info("purged %s expired uploads", deleted)
    return deleted
