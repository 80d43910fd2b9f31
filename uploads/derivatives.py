"""Making the derivatives of an upload (thumb, medium, video frame) and recording them.

Used by the Celery task and by the on-demand fallback of file serving: both call
`image_derivatives_generate`, which is idempotent (the `chain` bits say what exists).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import Storage as DjangoStorage
from django.db.models import F, Q
from django.utils import timezone

from chevereto.core.models import SiteSettings
from uploads import processing
from uploads.files import BITS, StoredFile, source_format, typed, variant_file
from uploads.locks import image_lock
from uploads.models import Image
from uploads.selectors import images_live
from uploads.storage import storage_of

log = logging.getLogger(__name__)


# One render at a time per process (the original is fetched first): a render's memory is
# bounded (README, "Hostile input and memory"), and this keeps that bound per process when
# several web threads ask for derivatives of large uploads at once. Worker processes render
# one task at a time anyway.
_RENDER_SLOT = threading.BoundedSemaphore(1)


class DerivativeFailed(Exception):
    """The original cannot be decoded: no derivative can be made from it."""


@contextlib.contextmanager
def _local_original(image: Image) -> Iterator[str]:
    """A local path to the original: the file itself on disk storage, else a temp copy."""
    storage = storage_of(image)
    try:
        yield storage.path(image.path)
        return
    except NotImplementedError:
        pass
    fd, path = tempfile.mkstemp(prefix="orig-", dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        with os.fdopen(fd, "wb") as out, storage.open(image.path, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        yield path
    finally:
        os.unlink(path)


def _put(storage: DjangoStorage, target: StoredFile, data: bytes) -> None:
    content = typed(ContentFile(data), mime=target.mime, filename=target.filename)
    stored = storage.save(target.name, content, max_length=255)
    if stored != target.name:
        # Someone else wrote the same derivative meanwhile: keep theirs, drop ours.
        storage.delete(stored)


def _missing(image: Image, wanted: set[str]) -> set[str]:
    return {v for v in wanted if variant_file(image, v) is not None and not image.has(BITS[v])}


def image_derivatives_generate(*, image_id: int, only: set[str] | None = None) -> Image | None:
    """Make the missing derivatives of an upload. Returns the refreshed row, or None if gone.

    Raises DerivativeFailed when the original cannot be decoded.
    """
    wanted = only or {"thumb", "medium", "frame"}
    # One maker at a time per upload; the loser of a race finds the work done. Should the
    # lock not come (a stuck holder), making the files anyway is safe: same names, same bytes.
    with image_lock(image_id):
        image = Image.objects.filter(pk=image_id).first()
        if image is None:
            return None
        missing = _missing(image, wanted)
        if not missing:
            return image
        site = SiteSettings.load()
        made: dict[str, processing.Rendition] = {}
        try:
            with _local_original(image) as path, _RENDER_SLOT:
                if image.is_video:
                    frame = processing.render_video_frame(path)
                    made["frame"] = frame
                    if "thumb" in missing:
                        thumbs = processing.render_image_derivatives(
                            frame.data,
                            source_format="jpeg",
                            thumb_size=(site.thumb_width, site.thumb_height),
                            want_medium=False,
                        )
                        if thumbs.thumb is not None:
                            made["thumb"] = thumbs.thumb
                else:
                    result = processing.render_image_derivatives(
                        path,
                        source_format=source_format(image),
                        thumb_size=(
                            image.thumb_width or site.thumb_width,
                            image.thumb_height or site.thumb_height,
                        ),
                        medium_width=image.medium_width or site.medium_width,
                        want_thumb="thumb" in missing,
                        want_medium="medium" in missing,
                    )
                    if result.thumb is not None:
                        made["thumb"] = result.thumb
                    if result.medium is not None:
                        made["medium"] = result.medium
        except processing.ProcessingError as exc:
            raise DerivativeFailed(str(exc)) from exc
        except FileNotFoundError as exc:
            raise DerivativeFailed(f"original missing: {image.path}") from exc

        bits = 0
        fields: dict[str, object] = {}
        for variant, rendition in made.items():
            if variant not in missing and variant != "frame":
                continue
            target = variant_file(image, variant)
            if target is None or (variant == "frame" and image.has(BITS["frame"])):
                continue
            _put(storage_of(image), target, rendition.data)
            bits |= BITS[variant]
            fields[f"{variant}_size"] = len(rendition.data)
            if variant in {"thumb", "medium"}:
                fields[f"{variant}_width"] = rendition.width
                fields[f"{variant}_height"] = rendition.height
        if bits:
            # Bitwise OR in SQL: a concurrent maker's bits are never lost.
            Image.objects.filter(pk=image.pk).update(chain=F("chain").bitor(bits), **fields)
            image.refresh_from_db()
        return image


# A file whose derivatives failed (undecodable, or over the task's time limit) fails again:
# the sweep below leaves it alone for this long instead of queueing it every few minutes.
# Kept in the shared cache (no schema change): losing it costs one more attempt, no more.
_FAILED_FOR = 86400


def _failed_key(image_id: int) -> str:
    return f"derivatives-failed:{image_id}"


def image_derivatives_failed(*, image_id: int) -> None:
    """Remember that a worker could not make this upload's derivatives."""
    cache.set(_failed_key(image_id), 1, _FAILED_FOR)


def images_derivatives_requeue(
    *,
    older_than: timedelta = timedelta(minutes=5),
    within: timedelta = timedelta(days=1),
    limit: int = 500,
) -> int:
    """Queue the derivatives of recent uploads that still lack them; returns how many.

    An upload made while the broker was down had its task dropped (the upload itself
    succeeded). Run by beat, this queues it again once the broker is back. Uploads younger
    than `older_than` are left to the task queued with them; those older than `within`
    (undecodable files, which fail every time) are left to the on-demand path.
    """
    from uploads.services import enqueue_derivatives

    now = timezone.now()
    lacking = Q(chain=F("chain").bitand(~Image.CHAIN_THUMB)) | (
        Q(medium_width__gt=0, kind=Image.Kind.IMAGE)
        & Q(chain=F("chain").bitand(~Image.CHAIN_MEDIUM))
    )
    pending = (
        images_live()
        .filter(
            lacking, chain__gt=0, created_at__gte=now - within, created_at__lte=now - older_than
        )
        .order_by("-pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(pending)
    failed = cache.get_many([_failed_key(pk) for pk in ids])
    ids = [pk for pk in ids if _failed_key(pk) not in failed]
    for pk in ids:
        enqueue_derivatives(pk)
    return len(ids)
