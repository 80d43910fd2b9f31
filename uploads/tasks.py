"""Celery tasks of uploads. Each takes a primary key and is safe to run twice."""

from __future__ import annotations

import logging

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded, WorkerLostError
from celery.signals import task_failure

from uploads.derivatives import (
    DerivativeFailed,
    image_derivatives_failed,
    image_derivatives_generate,
)

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    # Storage that is briefly unreachable (disk, network, S3) is worth another try. An S3
    # write that failed after its own retries raises boto3's S3UploadFailedError.
    autoretry_for=(OSError, BotoCoreError, ClientError, S3UploadFailedError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    # A run whose process died (the kernel's out-of-memory killer, a kill at deploy) is tried
    # again after a few seconds, counted as a retry: a file that kills its worker every time
    # ends recorded as failed (`_derivatives_killed`) instead of coming back forever.
    retry_on_worker_lost=True,
    default_retry_delay=5,
    soft_time_limit=240,
    time_limit=300,
)
def generate_derivatives(self: object, image_id: int) -> None:
    try:
        image_derivatives_generate(image_id=image_id)
    except DerivativeFailed as exc:
        # A file that cannot be decoded will not decode on a retry either.
        log.warning("derivatives of image %s failed: %s", image_id, exc)
        image_derivatives_failed(image_id=image_id)
    except SoftTimeLimitExceeded:
        # Interrupted cleanly (what it had begun is undone on the way out): the upload stays
        # usable and whatever is requested is made on demand. One line, not a traceback.
        log.warning(
            "derivatives of image %s stopped at the soft time limit (SoftTimeLimit)", image_id
        )
        image_derivatives_failed(image_id=image_id)


@task_failure.connect
def _derivatives_killed(
    sender: object = None,
    *,
    exception: BaseException | None = None,
    args: tuple | None = None,
    **_: object,
) -> None:
    """A run killed at its hard time limit, or whose process died on its last try, runs no
    code on the way out: the worker's main process reports it here, and it is remembered as
    a failure like any other, so beat's sweep does not queue it again every few minutes."""
    if getattr(sender, "name", None) != generate_derivatives.name:
        return
    if isinstance(exception, TimeLimitExceeded | WorkerLostError) and args:
        log.warning("derivatives of image %s: the run was killed (%r)", args[0], exception)
        image_derivatives_failed(image_id=int(args[0]))


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def requeue_missing_derivatives() -> int:
    """Run by beat: queue again the derivatives of uploads made while the broker was down."""
    from uploads.derivatives import images_derivatives_requeue

    queued = images_derivatives_requeue()
    if queued:
        log.info("queued the missing derivatives of %s uploads", queued)
    return queued


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
    autoretry_for=(OSError, BotoCoreError, ClientError, S3UploadFailedError),
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
    autoretry_for=(OSError, BotoCoreError, ClientError, S3UploadFailedError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
)
def delete_stored_files(self: object, names: list[str | list]) -> int:
    """Delete files whose rows are gone (uploads deleted with their album).

    Deleting a file that is already gone is not an error, so a retry after a storage
    error (or a redelivery) simply runs the whole list again.
    """
    from uploads.storage import storage_by_id

    for entry in names:
        # A plain name is on the default storage; [storage id, name] on that storage.
        storage_id, name = (None, entry) if isinstance(entry, str) else entry
        storage_by_id(storage_id).delete(name)
    return len(names)


# Uploads moved per `storage_migrate_batch` task: each run is short, and a worker restart
# loses at most one batch's progress (the next run finds those uploads moved or not).
STORAGE_MIGRATE_BATCH = 100


@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3600)
def storage_migrate_batch(storage_id: int, after_pk: int = 0) -> int:
    """Move the next uploads (by pk, after `after_pk`) to a storage, then queue the next batch.

    Quiet when the storage is gone; safe to run twice (a moved upload is skipped). Returns
    how many uploads this batch moved.
    """
    from uploads.models import Storage
    from uploads.storage_migration import storage_migrate
    from uploads.storage_services import storage_stats_regen

    if not Storage.objects.filter(pk=storage_id).exists():
        return 0
    report, last = storage_migrate(
        target_id=storage_id, after_pk=after_pk, batch_size=STORAGE_MIGRATE_BATCH, max_batches=1
    )
    if last != after_pk:
        storage_migrate_batch.delay(storage_id, last)
    else:
        for pk in Storage.objects.values_list("pk", flat=True):
            storage_stats_regen(storage_id=pk)
    return report.moved
