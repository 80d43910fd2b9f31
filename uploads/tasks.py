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


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError, BotoCoreError, ClientError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
)
def randomize_image_files(self: object, image_id: int, from_path: str | None = None) -> None:
    """Move an upload's files to a random name (it went into a non-public album).

    Quiet when the upload is gone or already renamed, so a redelivery does nothing twice.
    """
    from uploads.album_services import image_files_randomize

    image_files_randomize(image_id=image_id, from_path=from_path)


# Names per `delete_stored_files` task: the service splits bigger deletions, so a retry
# repeats at most this many storage calls.
DELETE_BATCH = 200


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError, BotoCoreError, ClientError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
)
def delete_stored_files(self: object, names: list[str]) -> int:
    """Delete files whose rows are gone (uploads deleted with their album).

    Deleting a file that is already gone is not an error, so a retry after a storage
    error (or a redelivery) simply runs the whole list again.
    """
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)
    return len(names)
