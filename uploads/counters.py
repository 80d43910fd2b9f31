"""The counters that listings show, kept in step with the rows they count.

Every change is one atomic `UPDATE ... SET n = n + k` (no read-modify-write in Python), so
concurrent uploads, deletes and moves never lose a count; removals are floored at zero so a
count that drifted (it can be rebuilt from the rows) never makes an update fail.

Called inside the transaction that adds, deletes or moves the uploads, so a rollback undoes
the count with the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import F
from django.db.models.functions import Greatest

from accounts.models import User
from albums.models import Album


def _bump(model: type[User] | type[Album], field: str, changes: Counter[int]) -> None:
    by_delta: dict[int, list[int]] = {}
    for pk, delta in changes.items():
        if delta:
            by_delta.setdefault(delta, []).append(pk)
    for delta, pks in by_delta.items():
        value = F(field) + delta if delta > 0 else Greatest(F(field) + delta, 0)
        model.objects.filter(pk__in=pks).update(**{field: value})


def image_counts_changed(
    *,
    added: Iterable[tuple[int | None, int | None]] = (),
    removed: Iterable[tuple[int | None, int | None]] = (),
) -> None:
    """Uploads added and removed, each as (user id, album id), either possibly None."""
    users: Counter[int] = Counter()
    albums: Counter[int] = Counter()
    for sign, rows in ((1, added), (-1, removed)):
        for user_id, album_id in rows:
            if user_id is not None:
                users[user_id] += sign
            if album_id is not None:
                albums[album_id] += sign
    _bump(User, "image_count", users)
    _bump(Album, "image_count", albums)


def images_moved(*, from_album_ids: Iterable[int | None], to_album_id: int | None) -> None:
    """Uploads moved into `to_album_id` (None: out of any album), one entry per upload."""
    albums: Counter[int] = Counter()
    for album_id in from_album_ids:
        if album_id == to_album_id:
            continue
        if album_id is not None:
            albums[album_id] -= 1
        if to_album_id is not None:
            albums[to_album_id] += 1
    _bump(Album, "image_count", albums)


def album_counts_changed(*, owner_id: int, delta: int) -> None:
    """Albums made (+) or deleted (−) by one owner."""
    _bump(User, "album_count", Counter({owner_id: delta}))
