"""Deleting expired uploads, and checking storage against the database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import Storage, default_storage
from django.db import connection, transaction
from django.utils import timezone

from uploads.counters import image_counts_changed
from uploads.files import BITS, all_files
from uploads.models import Image
from uploads.storage import storage_by_id

log = logging.getLogger(__name__)
# The name a row has while its upload reserves it (services: file naming by id).
RESERVED_SUFFIX = ".pending"
# Only the fields all_files() needs: purging reads thousands of rows.
_FILE_FIELDS = (
    "pk",
    "path",
    "kind",
    "mime",
    "medium_width",
    "user_id",
    "album_id",
    "storage_id",
    "chain",
)


def _delete_files(names: list[str], storage_ids: list[int | None] | None = None) -> int:
    """Delete files by name; `storage_ids[i]` says where `names[i]` is (default storage when
    not given)."""
    deleted = 0
    for index, name in enumerate(names):
        try:
            storage_by_id(storage_ids[index] if storage_ids else None).delete(name)
            deleted += 1
        except Exception:  # one unreachable file must not stop the others
            log.warning("could not delete %s", name, exc_info=True)
    return deleted


def images_purge_expired(
    *, batch_size: int = 500, now: datetime | None = None, max_batches: int | None = None
) -> int:
    """Delete uploads whose `expires_at` has passed; returns how many rows were deleted.

    Each batch deletes its rows in one transaction and their files after it commits, so a
    crash never leaves a row without its files. Batches claim rows with SKIP LOCKED where
    the database has it, so two purges at once never take the same rows; on SQLite the
    write lock serialises them and the second one finds the rows gone.
    """
    now = now or timezone.now()
    total = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        names: list[str] = []
        where: list[int | None] = []
        with transaction.atomic():
            claim = Image.objects.filter(expires_at__lte=now).order_by("expires_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                claim = claim.select_for_update(skip_locked=True, of=("self",))
            batch = list(claim.only(*_FILE_FIELDS)[:batch_size])
            if not batch:
                break
            for image in batch:
                for stored in all_files(image):
                    names.append(stored.name)
                    where.append(image.storage_id)
            Image.objects.filter(pk__in=[image.pk for image in batch]).delete()
            image_counts_changed(removed=[(image.user_id, image.album_id) for image in batch])
            transaction.on_commit(lambda names=names, where=where: _delete_files(names, where))
        total += len(batch)
        batches += 1
    return total


@dataclass
class ReconcileReport:
    orphan_files: list[str] = field(default_factory=list)
    # (upload pk, file name): the original, or a derivative its row says was made.
    missing_files: list[tuple[int, str]] = field(default_factory=list)
    # Rows an upload reserved (file naming by id) and never completed: the database went
    # away before the failed upload could delete its reservation.
    stale_reservations: list[int] = field(default_factory=list)
    deleted: int = 0

    @property
    def clean(self) -> bool:
        return not (self.orphan_files or self.missing_files or self.stale_reservations)


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    dirs, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in dirs:
        yield from _walk(storage, f"{folder}/{sub}")


def _walk_images(storage: Storage) -> Iterator[str]:
    # Not `exists("images")`: on S3 a folder is only a prefix, and no object has its name.
    try:
        yield from _walk(storage, "images")
    except FileNotFoundError:  # local storage without any upload yet
        return


def storage_reconcile(
    *, delete: bool = False, grace: timedelta = timedelta(hours=1)
) -> ReconcileReport:
    """Files under images/ of the default storage that no row explains, and rows kept there
    whose original file is gone (uploads on other storages are not looked at).

    Files younger than `grace` are left alone: an upload may be between its storage write
    and its commit.
    """
    storage = default_storage
    report = ReconcileReport()
    cutoff = timezone.now() - grace
    expected: set[str] = set()
    required: dict[str, int] = {}
    on_default = Image.objects.filter(storage__isnull=True)
    for image in on_default.only(*_FILE_FIELDS, "created_at").iterator(chunk_size=2000):
        if image.chain == 0 and image.path.endswith(RESERVED_SUFFIX):
            if image.created_at <= cutoff:
                report.stale_reservations.append(image.pk)
            continue
        for stored in all_files(image):
            expected.add(stored.name)
            # The original always; a derivative once the row says it was made.
            if stored.variant == "image" or image.chain & BITS[stored.variant]:
                required[stored.name] = image.pk
    present: set[str] = set()
    for name in _walk_images(storage):
        present.add(name)
        if name in expected:
            continue
        try:
            modified = storage.get_modified_time(name)
        except (NotImplementedError, OSError):
            modified = None
        if modified is not None and modified > cutoff:
            continue
        report.orphan_files.append(name)
    report.missing_files = sorted(
        (pk, name) for name, pk in required.items() if name not in present
    )
    if delete and report.orphan_files:
        report.deleted = _delete_files(report.orphan_files)
    if delete and report.stale_reservations:
        Image.objects.filter(pk__in=report.stale_reservations, chain=0).delete()
    return report
