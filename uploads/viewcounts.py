"""View counts, cheap on the hot path.

A page view only INSERTs one `ViewHit` row: no lock, no read-modify-write of the image's
row, which every view of a popular image would otherwise queue on. `views_fold`, run every
minute by beat (social.tasks.fold_views), adds the hits to `Image.views` / `Album.views`
with one atomic `UPDATE ... SET views = views + n` per distinct count and deletes the
hits it folded in the same transaction, so a hit is counted exactly once even when two
folds run at once or one crashes half-way.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.db import DatabaseError, connection, transaction
from django.db.models import F

from albums.models import Album
from uploads.models import Image, ViewHit

log = logging.getLogger(__name__)


def view_record(*, image_id: int | None = None, album_id: int | None = None) -> None:
    """Count one view of an image or an album (added to its `views` by the next fold).

    A view that cannot be recorded (a database busy past its timeout) is dropped and logged:
    a view count never makes a page fail.
    """
    if (image_id is None) == (album_id is None):
        raise ValueError("Record a view of exactly one of an image or an album.")
    try:
        with transaction.atomic():
            ViewHit.objects.create(image_id=image_id, album_id=album_id)
    except DatabaseError:
        log.warning("view of image %s / album %s not recorded", image_id, album_id, exc_info=True)


def _add_views(model: type[Image] | type[Album], counts: Counter[int]) -> None:
    # Rows sharing a count share one UPDATE: a batch costs a few statements, not one per id.
    by_count: dict[int, list[int]] = {}
    for pk, count in counts.items():
        by_count.setdefault(count, []).append(pk)
    for count, pks in by_count.items():
        # A hit of a deleted image or album updates nothing and is simply dropped.
        model.objects.filter(pk__in=pks).update(views=F("views") + count)


def views_fold(*, batch_size: int = 1000, max_batches: int | None = None) -> int:
    """Fold pending view hits into the counters; returns how many hits were folded.

    Each batch claims its hits with SKIP LOCKED where the database has it, so concurrent
    folds take disjoint rows; on SQLite the write lock serialises them and the second finds
    the rows gone. Counting and deleting happen in one transaction: all or nothing.
    """
    total = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            claim = ViewHit.objects.order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                claim = claim.select_for_update(skip_locked=True)
            hits = list(claim.values_list("pk", "image_id", "album_id")[:batch_size])
            if not hits:
                break
            images: Counter[int] = Counter()
            albums: Counter[int] = Counter()
            for _, image_id, album_id in hits:
                if image_id is not None:
                    images[image_id] += 1
                elif album_id is not None:
                    albums[album_id] += 1
            _add_views(Image, images)
            _add_views(Album, albums)
            ViewHit.objects.filter(pk__in=[pk for pk, _, _ in hits]).delete()
        total += len(hits)
        batches += 1
    return total
