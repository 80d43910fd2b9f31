"""A lock per upload, held in the database so that every web and worker process sees it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from uploads.models import DerivativeLock


def _try_acquire(image_id: int, ttl: float) -> bool:
    now = timezone.now()
    until = now + timedelta(seconds=ttl)
    try:
        with transaction.atomic():
            DerivativeLock.objects.create(image_id=image_id, expires_at=until)
        return True
    except IntegrityError:
        # Held: take it over only if its holder let it go stale (compare-and-swap).
        return bool(
            DerivativeLock.objects.filter(image_id=image_id, expires_at__lt=now).update(
                expires_at=until
            )
        )


@contextlib.contextmanager
def image_lock(image_id: int, *, ttl: float = 120.0, wait: float = 20.0) -> Iterator[bool]:
    """Hold the lock on `image_id`; yields False when it could not be had within `wait`.

    Callers re-read the row inside: whoever held the lock may have done the work already.
    """
    deadline = time.monotonic() + wait
    delay = 0.02
    acquired = _try_acquire(image_id, ttl)
    while not acquired and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
        acquired = _try_acquire(image_id, ttl)
    try:
        yield acquired
    finally:
        if acquired:
            DerivativeLock.objects.filter(image_id=image_id).delete()
