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

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage as DjangoStorage
from django.db.models import F

from chevereto.core.models import SiteSettings
from uploads import processing
from uploads.files import BITS, StoredFile, source_format, variant_file
from uploads.locks import image_lock
from uploads.models import Image
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
    stored = storage.save(target.name, ContentFile(data), max_length=255)
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
