"""Moving uploads' files from storage to storage while the site runs (`storage_migrate`).

One upload at a time, under its lock (the one the derivative maker and the renamer hold):
copy every file it has to the target, read each copy back and compare checksums (the
original's md5 must be the row's `md5`; a derivative's must be its source's), switch the
row's `storage` in one UPDATE that only succeeds if the row is still on the old storage
(compare-and-swap), and only then delete the old copies. Readers follow the row, so before
the switch they read the old files and after it the new ones.

Interrupted anywhere, nothing is lost: before the switch the old files are intact (a copy
left on the target is overwritten by the next run), after it the new ones are verified.
A run finds the uploads not on the target yet, so running it again resumes.

Profile images (avatars, backgrounds) are not moved: they live on the configured default
storage, whatever storage the uploads use, because the user row (accounts, a layer below
uploads) has no storage of its own. They are small and few; changing the default storage
itself (the S3_* settings) means copying the `profiles/` folder along (README).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.storage import Storage as DjangoStorage

from uploads.files import BITS, StoredFile, all_files, typed
from uploads.locks import image_lock
from uploads.models import Image, Storage
from uploads.storage import default_storage_kind, storage_by_id, storage_of

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# A copy of a large video to a remote bucket may take minutes: hold the lock long enough
# that no derivative maker takes it over as stale meanwhile.
LOCK_TTL = 1800.0

# Outcomes of one upload's move.
MOVED = "moved"
ALREADY = "already"  # on the target already (or moved meanwhile by another run)
GONE = "gone"  # deleted meanwhile
BUSY = "busy"  # its lock could not be had: left for the next run


class StorageMigrationError(Exception):
    """The migration cannot start (no such target, an ambiguous one) or a file failed."""


@dataclass
class MigrationReport:
    moved: int = 0
    already: int = 0
    gone: int = 0
    busy: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "moved": self.moved,
            "already": self.already,
            "gone": self.gone,
            "busy": self.busy,
            "failed": {str(k): v for k, v in self.failed.items()},
            "files": self.files,
            "bytes": self.bytes,
        }


def storage_migration_target(*, to: str, storage_id: int | None = None) -> int | None:
    """The storage `storage_migrate --to KIND [--storage ID]` means: a Storage id, or None
    for the configured default storage.

    With an id, that storage (its kind must be KIND). Without: the active storage when it
    is of that kind, else the default storage when it is, else the only storage of that
    kind; more than one candidate asks for --storage.
    """
    if to not in Storage.Kind.values:
        raise StorageMigrationError(f"--to must be one of {', '.join(Storage.Kind.values)}")
    if storage_id is not None:
        row = Storage.objects.filter(pk=storage_id).first()
        if row is None:
            raise StorageMigrationError(f"there is no storage {storage_id}")
        if row.kind != to:
            raise StorageMigrationError(f"storage {storage_id} is {row.kind}, not {to}")
        return row.pk
    active = Storage.objects.filter(is_active=True, kind=to).first()
    if active is not None:
        return active.pk
    if default_storage_kind() == to:
        return None
    rows = list(Storage.objects.filter(kind=to).values_list("pk", flat=True)[:2])
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise StorageMigrationError(
            f"no {to} storage: add one in the dashboard (Storages) or the API, then run again"
        )
    raise StorageMigrationError(f"more than one {to} storage: choose one with --storage ID")


def storage_label(storage_id: int | None) -> str:
    if storage_id is None:
        return f"the default storage ({default_storage_kind()})"
    row = Storage.objects.filter(pk=storage_id).first()
    return str(row) if row is not None else f"storage {storage_id}"


def _existing_files(image: Image) -> list[StoredFile]:
    # Derivatives not made yet have no file to move: they will be made on the new storage.
    return [f for f in all_files(image) if image.has(BITS[f.variant])]


def _md5_of(storage: DjangoStorage, name: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader:
    """A file being copied, hashed as the target storage reads it."""

    def __init__(self, handle: object) -> None:
        self.handle = handle
        self.digest = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)  # type: ignore[attr-defined]
        self.digest.update(data)
        self.size += len(data)
        return data

    @property
    def closed(self) -> bool:
        return bool(getattr(self.handle, "closed", False))

    def seekable(self) -> bool:
        # Storages that would rewind a seekable file read this one once, as it streams.
        return False


def _copy_verified(
    source: DjangoStorage, target: DjangoStorage, stored: StoredFile, *, expected_md5: str | None
) -> int:
    """Copy one file under the same name and check the copy; returns its size."""
    from django.core.files import File

    if target.exists(stored.name):
        # Left by an interrupted run (names are unique to their upload): copy it again.
        target.delete(stored.name)
    with source.open(stored.name, "rb") as handle:
        reader = _HashingReader(handle)
        content = typed(File(reader, name=stored.name), mime=stored.mime, filename=stored.filename)  # type: ignore[arg-type]
        saved = target.save(stored.name, content, max_length=255)
    if saved != stored.name:
        target.delete(saved)
        raise StorageMigrationError(f"the target stored {stored.name} as {saved}")
    copied = _md5_of(target, stored.name)
    if copied != reader.digest.hexdigest() or (expected_md5 and copied != expected_md5):
        target.delete(stored.name)
        raise StorageMigrationError(
            f"checksum mismatch for {stored.name}: read {reader.digest.hexdigest()},"
            f" wrote {copied}" + (f", the upload's md5 is {expected_md5}" if expected_md5 else "")
        )
    return reader.size


def _delete_quietly(storage: DjangoStorage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # an old copy left behind is an orphan, not a loss
            log.warning("could not delete %s after moving it", name, exc_info=True)


def image_storage_move(
    *, image_id: int, target_id: int | None, report: MigrationReport | None = None
) -> str:
    """Move one upload's files to the storage `target_id` (None: the default storage).

    Returns MOVED, ALREADY, GONE or BUSY; raises StorageMigrationError (or the storage's own
    error) when a copy fails, leaving the upload where it was. Safe to run twice, and to
    run next to another migration, an upload, a deletion or a rename.
    """
    report = report if report is not None else MigrationReport()
    with image_lock(image_id, ttl=LOCK_TTL) as acquired:
        if not acquired:
            return BUSY
        image = Image.objects.filter(pk=image_id).first()
        if image is None:
            return GONE
        if image.storage_id == target_id:
            return ALREADY
        old_id = image.storage_id
        source, target = storage_of(image), storage_by_id(target_id)
        files = _existing_files(image)
        copied: list[str] = []
        size = 0
        try:
            for stored in files:
                expected = image.md5 if stored.variant == "image" else None
                size += _copy_verified(source, target, stored, expected_md5=expected)
                copied.append(stored.name)
        except BaseException:
            _delete_quietly(target, copied)
            raise
        # Compare-and-swap: only a row still on the old storage (and the same files) moves.
        switched = Image.objects.filter(pk=image_id, storage_id=old_id, path=image.path).update(
            storage_id=target_id
        )
        if not switched:
            now = Image.objects.filter(pk=image_id).values_list("storage_id", flat=True).first()
            if now != target_id:
                _delete_quietly(target, copied)  # deleted or changed meanwhile: ours are orphans
            return GONE
        _delete_quietly(source, [f.name for f in files])
        report.files += len(files)
        report.bytes += size
        return MOVED


def storage_migrate(
    *,
    target_id: int | None,
    batch_size: int = 200,
    after_pk: int = 0,
    max_batches: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[MigrationReport, int]:
    """Move every upload not on `target_id` there, in pk order from `after_pk`.

    Returns (report, last pk seen): with `max_batches`, call again from that pk to go on.
    One upload's failure is recorded and the rest go on. `on_progress(n)` after each upload.
    """
    report = MigrationReport()
    pending = (
        Image.objects.exclude(storage_id=target_id)
        if target_id
        else Image.objects.filter(storage__isnull=False)
    )
    last = after_pk
    batches = 0
    while max_batches is None or batches < max_batches:
        ids = list(
            pending.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        batches += 1
        for image_id in ids:
            last = image_id
            try:
                outcome = image_storage_move(image_id=image_id, target_id=target_id, report=report)
            except Exception as exc:
                log.warning("could not move upload %s", image_id, exc_info=True)
                report.failed[image_id] = str(exc) or exc.__class__.__name__
            else:
                setattr(report, outcome, getattr(report, outcome) + 1)
            if on_progress is not None:
                on_progress(1)
    return report, last


def storage_migrate_pending(*, target_id: int | None) -> int:
    """How many uploads are not on the target yet."""
    if target_id:
        return Image.objects.exclude(storage_id=target_id).count()
    return Image.objects.filter(storage__isnull=False).count()
