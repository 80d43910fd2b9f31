"""Writes that touch both uploads and albums: moving uploads between albums, and giving the
files of uploads in hidden albums names nobody can guess.

The rule (DESIGN §4, "random when the album asks for it"): the files of an upload in a
private, link-only or password album live under a random name, so knowing the original
file name never leads to them. Uploads get such names at ingest; an upload that *moves*
into such an album, or whose album turns non-public, gets them here: the original and every
derivative are copied under a fresh random stem, the row's `path` switches to it, and the
old files are deleted. Storage has no rename, and copying is slow I/O, so it runs in a
Celery task after the commit that moved the rows.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import Storage as DjangoStorage
from django.db import transaction

from albums.models import Album
from albums.selectors import album_descendant_ids
from albums.services import (
    AlbumError,
    album_clean_description,
    album_clean_name,
    album_clean_privacy,
    album_hash_password,
    album_lock_tree,
    album_tree_delete,
)
from uploads.counters import image_counts_changed, images_moved
from uploads.files import BITS, StoredFile, all_files, typed
from uploads.locks import image_lock
from uploads.models import Image
from uploads.naming import random_name
from uploads.storage import storage_of

log = logging.getLogger(__name__)

# The stems `naming.random_name()` gives: 16 letters and digits. A stem that has all three
# kinds of character is taken as already random (a client's own file name rarely is);
# anything else, hex included, is renamed (an ingest-random stem without a digit just gets
# one more random name).
_RANDOM_STEM = re.compile(r"^[A-Za-z0-9]{16}$")
# How many uploads one batch of rename tasks covers when a whole album turns non-public.
RENAME_BATCH = 500


class ImageMoveError(ValueError):
    """An upload cannot go where it was asked to (the message says why)."""


def _looks_random(path: str) -> bool:
    filename = path.rsplit("/", 1)[-1]
    stem = filename.rsplit(".", 1)[0]
    return (
        bool(_RANDOM_STEM.match(stem))
        and any(c.isdigit() for c in stem)
        and any(c.islower() for c in stem)
        and any(c.isupper() for c in stem)
    )


def image_needs_random_name(image: Image, album: Album | None) -> bool:
    """Whether the upload, in `album`, still has files under a guessable name."""
    return album is not None and album.wants_random_names and not _looks_random(image.path)


def images_move(*, images: list[Image], album: Album | None) -> None:
    """Move uploads into `album` (None: out of any album) in one transaction.

    The caller checked that the actor may move each upload and use the album. Counters
    move with the rows (one atomic UPDATE per album touched); an album that loses its cover
    upload loses the cover. Uploads landing in a non-public album get random file names
    by a task per upload, queued once the move is committed.
    """
    if not images:
        return
    pks = [image.pk for image in images]
    with transaction.atomic():
        # The album ids as the rows hold them now, locked until the commit: a stale
        # `image.album_id`, or a concurrent move of the same upload, would move a counter
        # the upload no longer adds to.
        rows = (
            Image.objects.select_for_update()
            .filter(pk__in=pks)
            .order_by("pk")
            .values_list("pk", "album_id", "path")
        )
        current = {pk: (album_id, path) for pk, album_id, path in rows}
        to_id = album.pk if album is not None else None
        moved = [pk for pk, (album_id, _) in current.items() if album_id != to_id]
        if not moved:
            return
        Image.objects.filter(pk__in=moved).update(album_id=to_id)
        from_ids = [current[pk][0] for pk in moved]
        images_moved(from_album_ids=from_ids, to_album_id=to_id)
        # An album's cover must be one of its uploads: a cover that left is no cover.
        left_from = {album_id for album_id in from_ids if album_id is not None}
        if left_from:
            Album.objects.filter(pk__in=left_from, cover_id__in=moved).update(cover=None)
        if album is not None and album.wants_random_names:
            # The paths as the rows hold them: the task renames only from these.
            renames = [(pk, current[pk][1]) for pk in moved if not _looks_random(current[pk][1])]
            if renames:
                transaction.on_commit(lambda: enqueue_renames(renames))
    moved_set = set(moved)
    for image in images:
        if image.pk in moved_set:
            image.album_id = to_id
            image.album = album


def enqueue_renames(renames: Iterable[tuple[int, str]]) -> None:
    """Queue one rename task per upload; a broker that is down leaves the files where they
    are (still served only to those who may see them) and is logged."""
    from uploads.tasks import randomize_image_files

    for image_id, from_path in renames:
        try:
            randomize_image_files.delay(image_id, from_path)
        except Exception:
            log.warning("could not enqueue the rename of image %s", image_id, exc_info=True)


def album_images_randomize(*, album: Album) -> int:
    """Queue random names for every upload of `album` that has a guessable one, in
    batches (an album of 100,000 uploads never sits in memory at once). Returns how many.

    Called after the album turned non-public, inside or outside a transaction: the tasks are
    queued once it commits.
    """
    queued = 0
    last_pk = 0
    while True:
        batch = list(
            Image.objects.filter(album_id=album.pk, pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "path")[:RENAME_BATCH]
        )
        if not batch:
            return queued
        last_pk = batch[-1][0]
        renames = [(pk, path) for pk, path in batch if not _looks_random(path)]
        if renames:
            queued += len(renames)
            transaction.on_commit(lambda renames=renames: enqueue_renames(renames))


def _existing_files(image: Image) -> list[StoredFile]:
    # Derivatives not made yet have no file to move; they will be made under the new name.
    return [f for f in all_files(image) if image.has(BITS[f.variant])]


def _copy(storage: DjangoStorage, source: str, target: str, *, mime: str) -> str:
    with storage.open(source, "rb") as handle:
        # The copy is a new object: on S3 it carries the type and disposition again.
        content = typed(handle, mime=mime, filename=target.rsplit("/", 1)[-1])
        return storage.save(target, content, max_length=255)


def _fresh_path(image: Image, storage: DjangoStorage) -> str:
    folder, _, filename = image.path.rpartition("/")
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    prefix = f"{folder}/" if folder else ""
    for _ in range(50):
        candidate = f"{prefix}{random_name()}.{extension}"
        # About one random name in sixteen lacks a digit or a case; skipping those makes
        # every name given here pass `_looks_random`, so a second run finds it done.
        if not _looks_random(candidate):
            continue
        if not storage.exists(candidate) and not Image.objects.filter(path=candidate).exists():
            return candidate
    raise OSError("no free random name for the upload's files")


def image_files_randomize(*, image_id: int, from_path: str | None = None) -> str | None:
    """Give an upload's files a random name. Returns the new path, or None when nothing was
    to be done: the upload is gone, was renamed already (its path is no longer
    `from_path`, or already random), or is no longer in an album that wants it.

    Safe to run twice and to crash halfway: the row switches to the new name only once
    every file is copied (a compare-and-swap on the old path), and the old files are
    deleted only after that; a failed copy deletes what it had copied.
    """
    # The derivative maker holds the same lock: no thumb is written under the old name
    # while the files move.
    with image_lock(image_id):
        image = Image.objects.select_related("album").filter(pk=image_id).first()
        if image is None or (from_path is not None and image.path != from_path):
            return None
        if not image_needs_random_name(image, image.album):
            return None
        old_files = _existing_files(image)
        old_path = image.path
        storage = storage_of(image)
        new_path = _fresh_path(image, storage)
        renamed = copy.copy(image)
        renamed.path = new_path
        new_by_variant = {f.variant: f.name for f in all_files(renamed)}
        copied: list[str] = []
        try:
            for stored in old_files:
                target = new_by_variant[stored.variant]
                saved = _copy(storage, stored.name, target, mime=stored.mime)
                copied.append(saved)
                if saved != target:
                    raise OSError(f"storage renamed {target} to {saved}")
            switched = Image.objects.filter(
                pk=image_id, path=old_path, storage_id=image.storage_id
            ).update(path=new_path)
        except BaseException:
            _delete_all(storage, copied)
            raise
        if not switched:
            # Someone changed the row meanwhile (deleted or renamed it): ours are orphans.
            _delete_all(storage, copied)
            return None
        _delete_all(storage, [f.name for f in old_files])
        return new_path


def _delete_all(storage: DjangoStorage, names: Iterable[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # an old copy left behind is found by `reconcile`, not fatal
            log.warning("could not delete %s from storage", name, exc_info=True)


# --- Editing and deleting albums (they reach into their uploads) ------------------------------


class _Unset:
    """A field the caller did not send (None means something for `cover`)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def album_edit(
    *,
    album: Album,
    name: Any = UNSET,
    description: Any = UNSET,
    privacy: Any = UNSET,
    password: Any = UNSET,
    cover: Image | None = UNSET,
) -> Album:
    """Change what was given of an album; what was not given stays.

    A password album needs a password (a new one, or the one it already has); leaving
    password privacy drops the stored hash. The cover must be one of the album's own
    uploads (None: no cover). An album that stops being public has its uploads' files
    renamed at random (queued after the commit).
    """
    fields: dict[str, Any] = {}
    if not isinstance(name, _Unset):
        fields["name"] = album_clean_name(name)
    if not isinstance(description, _Unset):
        fields["description"] = album_clean_description(description)
    new_privacy = album.privacy if isinstance(privacy, _Unset) else album_clean_privacy(privacy)
    fields["privacy"] = new_privacy
    if new_privacy == Album.Privacy.PASSWORD:
        if not isinstance(password, _Unset) and password not in (None, ""):
            fields["password_hash"] = album_hash_password(password)
        elif not album.password_hash or album.privacy != Album.Privacy.PASSWORD:
            raise AlbumError("A password album needs a password.")
    else:
        if not isinstance(password, _Unset) and password not in (None, ""):
            raise AlbumError("Only a password album takes a password.")
        fields["password_hash"] = ""
    if not isinstance(cover, _Unset):
        if cover is not None and cover.album_id != album.pk:
            raise AlbumError("The cover must be one of the album's own uploads.")
        fields["cover"] = cover
    turns_hidden = album.privacy == Album.Privacy.PUBLIC and new_privacy != Album.Privacy.PUBLIC
    with transaction.atomic():
        # Re-checked on the row: the upload may have left the album since it was read.
        chosen = fields.get("cover")
        if chosen is not None and not Image.objects.filter(pk=chosen.pk, album=album).exists():
            raise AlbumError("The cover must be one of the album's own uploads.")
        for field, value in fields.items():
            setattr(album, field, value)
        album.save(update_fields=[*fields, "updated_at"])
        if turns_hidden:
            album_images_randomize(album=album)
    return album


def _album_file_names(image_rows: Iterable[Image]) -> list[str | list]:
    # [storage id, name] where the upload is not on the default storage (delete_stored_files).
    return [
        stored.name if image.storage_id is None else [image.storage_id, stored.name]
        for image in image_rows
        for stored in all_files(image)
    ]


# Only the fields `all_files` and the counters need: a big album reads thousands of rows.
_FILE_FIELDS = ("pk", "path", "kind", "mime", "medium_width", "user_id", "album_id", "storage_id")
DELETE_ROWS_BATCH = 1000


def album_delete(*, album: Album, with_images: bool = False) -> int:
    """Delete the album and all its sub-albums; returns how many albums went.

    Without its uploads, they stay their owner's, outside any album. With them, every
    upload of the album and of its sub-albums is deleted in the same transaction, counters
    included, and their files by worker tasks once it commits (a rollback keeps them).
    """
    from uploads.tasks import DELETE_BATCH

    with transaction.atomic():
        album_lock_tree(owner_id=album.owner_id)
        levels = album_descendant_ids(album=album)
        album_ids = [album.pk] + [pk for level in levels for pk in level]
        if not Album.objects.filter(pk=album.pk).exists():
            return 0  # gone already (with a parent deleted before it)
        names: list[str | list] = []
        if with_images:
            while True:
                batch = list(
                    Image.objects.filter(album_id__in=album_ids).only(*_FILE_FIELDS)[
                        :DELETE_ROWS_BATCH
                    ]
                )
                if not batch:
                    break
                names.extend(_album_file_names(batch))
                Image.objects.filter(pk__in=[image.pk for image in batch]).delete()
                # The albums go too: only the owners' counts need the change.
                image_counts_changed(removed=[(image.user_id, None) for image in batch])
        deleted = album_tree_delete(album=album)
        if names:
            chunks = [names[i : i + DELETE_BATCH] for i in range(0, len(names), DELETE_BATCH)]
            transaction.on_commit(lambda: _enqueue_file_deletions(chunks))
    return deleted


def _enqueue_file_deletions(chunks: list[list[str | list]]) -> None:
    from uploads.tasks import delete_stored_files

    for chunk in chunks:
        try:
            delete_stored_files.delay(chunk)
        except Exception:  # the rows are gone; `reconcile` finds the orphan files later
            log.warning("could not enqueue the deletion of %s files", len(chunk), exc_info=True)
