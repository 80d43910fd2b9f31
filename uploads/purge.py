"""Deleting many uploads at once, in bounded batches: for purges (everything from a user or
an address) and bulk rejections.

A batch deletes its rows (and fixes the counters) inside the caller's transaction and hands
back the names of their files; the caller deletes those after the commit, outside any
transaction, and may keep the list somewhere durable in between, so that a crash after the
commit still knows which files are left to delete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.files.storage import Storage
from django.db import connection, transaction
from django.db.models import QuerySet

from uploads.counters import image_counts_changed
from uploads.files import all_files
from uploads.models import Image
from uploads.storage import storage_by_id

log = logging.getLogger(__name__)

# Only the fields all_files() and the counters need: a purge reads thousands of rows.
_FILE_FIELDS = ("pk", "path", "kind", "mime", "medium_width", "user_id", "album_id", "storage_id")

# One stored file: [storage id or None (the default storage), storage name]. Plain lists so
# they fit in a JSON field as they are.
FileRef = list


def _file_refs(image: Image) -> list[FileRef]:
    return [[image.storage_id, f.name] for f in all_files(image)]


def images_delete_batch(*, queryset: QuerySet[Image], batch_size: int = 200) -> tuple[int, list]:
    """Delete up to `batch_size` uploads of `queryset`: returns (rows deleted, file refs).

    Runs in the caller's transaction (or its own); the files are the caller's to delete
    after the commit (`stored_files_delete`). Rows are claimed with SKIP LOCKED where the
    database has it, so two deleters at once (a purge and the expiry purge) never take the
    same rows and each counts only what it deleted.
    """
    with transaction.atomic():
        claim = queryset.order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            claim = claim.select_for_update(skip_locked=True, of=("self",))
        batch = list(claim.only(*_FILE_FIELDS)[:batch_size])
        if not batch:
            return 0, []
        files: list[FileRef] = []
        for image in batch:
            files.extend(_file_refs(image))
        deleted = Image.objects.filter(pk__in=[image.pk for image in batch]).delete()[1]
        count = deleted.get(Image._meta.label, 0)
        image_counts_changed(removed=[(image.user_id, image.album_id) for image in batch])
    return count, files


def _storage(storage_id: int | None, cache: dict[int | None, Storage]) -> Storage:
    if storage_id not in cache:
        cache[storage_id] = storage_by_id(storage_id)
    return cache[storage_id]


def stored_files_delete(files: Iterable[FileRef]) -> list[FileRef]:
    """Delete these files (whose rows are gone); returns the ones that could not be deleted.

    Deleting a file that is already gone is no error, so running a list twice is safe; one
    unreachable file is logged and does not stop the others.
    """
    cache: dict[int | None, Storage] = {}
    failed: list[FileRef] = []
    for storage_id, name in files:
        try:
            _storage(storage_id, cache).delete(name)
        except Exception:
            log.warning("could not delete %s", name, exc_info=True)
            failed.append([storage_id, name])
    return failed


def images_delete_now(*, queryset: QuerySet[Image], batch_size: int = 200) -> int:
    """Delete every upload of `queryset` batch by batch, each batch's files after its
    commit; returns how many rows went. For bounded sets (a bulk rejection of ≤100)."""
    total = 0
    while True:
        with transaction.atomic():
            count, files = images_delete_batch(queryset=queryset, batch_size=batch_size)
            if files:
                transaction.on_commit(lambda files=files: stored_files_delete(files))
        if not count and not files:
            return total
        total += count
