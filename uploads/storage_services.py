"""Writes for storages: create, edit, choose where new uploads go, recount what each holds."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from uploads.models import Image, Storage
from uploads.storage import storages_changed

# The fields an admin may set (the API, the dashboard form).
EDITABLE = (
    "name",
    "kind",
    "is_active",
    "folder",
    "bucket",
    "endpoint_url",
    "region",
    "prefix",
    "access_key_id",
    "secret_access_key",
    "addressing_style",
    "public_url",
)


def _url_valid(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def storage_validate(storage: Storage) -> None:
    """Raise ValidationError (by field) when the settings cannot work for the kind."""
    errors: dict[str, str] = {}
    if not storage.name.strip():
        errors["name"] = "A storage needs a name."
    if storage.kind not in Storage.Kind.values:
        errors["kind"] = "Kind must be local or s3."
    elif storage.kind == Storage.Kind.LOCAL:
        if not storage.folder or not os.path.isabs(storage.folder):
            errors["folder"] = "A local storage needs an absolute folder path."
    else:
        if not storage.bucket.strip():
            errors["bucket"] = "An S3 storage needs a bucket."
        if storage.endpoint_url and not _url_valid(storage.endpoint_url):
            errors["endpoint_url"] = "The endpoint must be an http(s) URL."
        if storage.addressing_style not in {"", "path", "virtual", "auto"}:
            errors["addressing_style"] = "Addressing style is path, virtual, auto or blank."
        if bool(storage.access_key_id) != bool(storage.secret_access_key):
            errors["secret_access_key"] = "Give both the key id and the secret, or neither."
    if storage.public_url and not _url_valid(storage.public_url):
        errors["public_url"] = "The public URL must be an http(s) URL."
    if errors:
        raise ValidationError(errors)


def storage_save(storage: Storage) -> Storage:
    """Validate and save (from a form that set the fields); one storage stays active."""
    storage_validate(storage)
    with transaction.atomic():
        if storage.is_active:
            # One active storage: making this one active retires the other.
            Storage.objects.filter(is_active=True).exclude(pk=storage.pk).update(is_active=False)
        storage.save()
    transaction.on_commit(storages_changed)
    storages_changed()
    return storage


def storage_create(**fields: Any) -> Storage:
    """A new storage from the EDITABLE fields (validated; ValidationError otherwise)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    return storage_save(Storage(**fields))


def storage_update(*, storage: Storage, **fields: Any) -> Storage:
    """Change some EDITABLE fields. The kind of a storage that holds files cannot change:
    its uploads would point at a place that does not have them."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    if "kind" in fields and fields["kind"] != storage.kind and storage.images.exists():
        raise ValidationError({"kind": "This storage holds files: its kind cannot change."})
    for name, value in fields.items():
        setattr(storage, name, value)
    return storage_save(storage)


def storage_activate(*, storage: Storage | None) -> None:
    """Send new uploads to `storage` (None: the configured default storage)."""
    with transaction.atomic():
        Storage.objects.filter(is_active=True).update(is_active=False)
        if storage is not None:
            Storage.objects.filter(pk=storage.pk).update(is_active=True)
            storage.is_active = True
    storages_changed()


def storage_stats(*, storage_id: int | None) -> tuple[int, int]:
    """(files, bytes) held by a storage (None: the default one), counted from the rows."""
    totals = Image.objects.filter(storage_id=storage_id).aggregate(
        images=Count("pk"),
        thumbs=Sum(F("chain").bitand(Image.CHAIN_THUMB)),
        mediums=Sum(F("chain").bitand(Image.CHAIN_MEDIUM)),
        frames=Sum(F("chain").bitand(Image.CHAIN_FRAME)),
        size=Sum(F("size") + F("thumb_size") + F("medium_size") + F("frame_size")),
    )
    files = (
        (totals["images"] or 0)
        + (totals["thumbs"] or 0) // Image.CHAIN_THUMB
        + (totals["mediums"] or 0) // Image.CHAIN_MEDIUM
        + (totals["frames"] or 0) // Image.CHAIN_FRAME
    )
    return files, totals["size"] or 0


def storage_stats_regen(*, storage_id: int) -> Storage | None:
    """Recount a storage's files and bytes into its row; None when the row is gone."""
    files, size = storage_stats(storage_id=storage_id)
    Storage.objects.filter(pk=storage_id).update(
        file_count=files, bytes_used=size, stats_updated_at=timezone.now()
    )
    return Storage.objects.filter(pk=storage_id).first()


def storage_migration_start(*, storage: Storage) -> int:
    """Send new uploads to `storage` and queue the move of every other upload there (by a
    worker, batch by batch); returns how many uploads are to move."""
    from uploads.storage_migration import storage_migrate_pending
    from uploads.tasks import storage_migrate_batch

    storage_activate(storage=storage)
    transaction.on_commit(lambda: storage_migrate_batch.delay(storage.pk, 0))
    return storage_migrate_pending(target_id=storage.pk)
