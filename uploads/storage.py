"""Which storage holds an upload's files, and where new files go.

Every read, write and delete of an upload's files asks here instead of using
`default_storage`: an upload's row names its storage (`Image.storage`, NULL meaning the
configured default, `STORAGES["default"]`), so while `storage_migrate` moves files the
readers simply follow the row. New files go to the active `uploads.Storage`, or to the
default storage when none is active.

The Django storage objects built from rows are cached per process; the cache re-reads a
row's `updated_at` every few seconds, so an edit in the dashboard reaches every process
soon, and at once in the process that made it (`storages_changed`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import Storage as DjangoStorage
from django.core.files.storage import default_storage
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from chevereto.core.s3config import s3_client_config
from uploads.localstorage import LocalStorage
from uploads.models import Image, Storage

# How long a process trusts its cached view of the storage rows.
CACHE_SECONDS = 5.0


@dataclass
class _Cached:
    storage: DjangoStorage
    updated_at: object
    checked: float


_lock = threading.Lock()
_by_id: dict[int, _Cached] = {}
_active: tuple[float, int | None] | None = None


def storages_changed() -> None:
    """Forget the cached storages (called after every write to a Storage row)."""
    global _active
    with _lock:
        _by_id.clear()
        _active = None


@receiver(post_save, sender=Storage, dispatch_uid="uploads.storage.saved")
@receiver(post_delete, sender=Storage, dispatch_uid="uploads.storage.deleted")
def _row_changed(**kwargs: object) -> None:
    storages_changed()


def storages_cache_known_empty() -> None:
    """For tests, which start on an empty table: no storage is active until a row is saved
    (the save clears this), without a query to find that out."""
    global _active
    with _lock:
        _by_id.clear()
        _active = (float("inf"), None)


def storage_backend(row: Storage) -> DjangoStorage:
    """A Django storage for this row's settings (a new object: callers cache it)."""
    if row.kind == Storage.Kind.LOCAL:
        backend: DjangoStorage = LocalStorage(location=row.folder, base_url="/")
    else:
        from uploads.s3 import MediaS3Storage

        options: dict[str, object] = {
            "bucket_name": row.bucket,
            "location": row.prefix.strip("/"),
            "signature_version": "s3v4",
            "file_overwrite": False,
            "default_acl": None,
            # Private buckets are read through signed URLs; a public URL (a CDN) unsigned.
            "querystring_auth": not row.public_url,
        }
        if row.endpoint_url:
            options["endpoint_url"] = row.endpoint_url
        if row.region:
            options["region_name"] = row.region
        if row.addressing_style:
            options["addressing_style"] = row.addressing_style
        # Bounded waits and retries (django-storages reads the addressing style from here).
        options["client_config"] = s3_client_config(addressing_style=row.addressing_style or None)
        # Blank credentials: django-storages falls back to AWS_S3_ACCESS_KEY_ID /
        # AWS_ACCESS_KEY_ID settings, then boto3's own chain (environment, instance role).
        if row.access_key_id:
            options["access_key"] = row.access_key_id
        if row.secret_access_key:
            options["secret_key"] = row.secret_access_key
        if row.public_url:
            parts = urlsplit(row.public_url)
            options["custom_domain"] = (parts.netloc + parts.path).rstrip("/")
            options["url_protocol"] = f"{parts.scheme or 'https'}:"
        backend = MediaS3Storage(**options)
    backend.storage_id = row.pk  # type: ignore[attr-defined]
    return backend


def storage_by_id(storage_id: int | None) -> DjangoStorage:
    """The Django storage of a Storage row by id; None is the default storage.

    Raises Storage.DoesNotExist for an unknown id (rows are protected while an upload
    points at them, so that means a caller's mistake).
    """
    if storage_id is None:
        return default_storage
    now = time.monotonic()
    with _lock:
        cached = _by_id.get(storage_id)
    if cached is not None and now - cached.checked < CACHE_SECONDS:
        return cached.storage
    if cached is not None:
        updated = Storage.objects.filter(pk=storage_id).values_list("updated_at", flat=True).first()
        if updated == cached.updated_at:
            cached.checked = now
            return cached.storage
    row = Storage.objects.get(pk=storage_id)
    built = _Cached(storage_backend(row), row.updated_at, now)
    with _lock:
        _by_id[storage_id] = built
    return built.storage


def storage_of(image: Image) -> DjangoStorage:
    """The storage that holds this upload's files now (its row says so)."""
    return storage_by_id(image.storage_id)


def active_storage_id() -> int | None:
    """The id of the storage new files go to; None for the default storage."""
    global _active
    now = time.monotonic()
    with _lock:
        if _active is not None and now - _active[0] < CACHE_SECONDS:
            return _active[1]
    found = Storage.objects.filter(is_active=True).values_list("pk", flat=True).first()
    with _lock:
        _active = (now, found)
    return found


def storage_for_new_files() -> DjangoStorage:
    """Where a new upload's files go. Record `storage_id_of(storage)` on its row."""
    try:
        return storage_by_id(active_storage_id())
    except Storage.DoesNotExist:
        # The cached active storage was deleted (in another process): ask again.
        storages_changed()
        return storage_by_id(active_storage_id())


def storage_id_of(storage: DjangoStorage) -> int | None:
    """The Storage row id a storage from this module stands for; None for the default."""
    return getattr(storage, "storage_id", None)


def storage_is_local(storage: DjangoStorage) -> bool:
    """Whether files have a local path (served by the app) or a URL of their own (S3)."""
    try:
        storage.path("x")
    except NotImplementedError:
        return False
    return True


def default_storage_kind() -> str:
    """ "local" or "s3": what the configured default storage (`STORAGES["default"]`) is."""
    backend = str(settings.STORAGES["default"]["BACKEND"])
    return Storage.Kind.S3 if "s3" in backend.lower() else Storage.Kind.LOCAL
