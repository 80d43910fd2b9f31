"""The folder importer: every file of a folder through the upload pipeline, each subfolder
an album (nested folders, nested albums), resumable.

Items are keyed by the file's path relative to the folder ("trips/2019/beach.jpg"), so a
resumed run skips what is done; a folder's album is remembered under "/" + its relative
path (no file key starts with "/"), created in the same transaction as that record, so a
crash never makes an album twice. Files are copied to a temporary file first: the pipeline
may move its source into storage, and the admin's folder must stay as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction

from accounts.models import User
from albums.models import Album
from albums.selectors import album_depth
from albums.services import album_create
from imports.models import ImportItem
from imports.runner import ImportContext
from uploads.errors import (
    CODE_BAD_MIME,
    CODE_DISABLED_FORMAT,
    CODE_DUPLICATE,
    CODE_INVALID,
    CODE_UNSUPPORTED,
    UploadError,
)
from uploads.models import Image
from uploads.services import image_upload
from uploads.sources import SourceFile, md5_of_path

# Progress is written (and pause/cancel noticed) every this many files or seconds.
TICK_FILES = 25
TICK_SECONDS = 1.0
# Files and folders never imported: the system's own bookkeeping, not anyone's pictures.
IGNORED = {".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX", "@eaDir"}


class FolderGone(Exception):
    """The folder to import is not there (unmounted, moved): the job fails, resumable."""


def _walk(root: str) -> Iterator[tuple[str, str]]:
    """(relative folder, relative file path) of every file, in a stable order."""
    for current, dirs, files in os.walk(root, onerror=_raise):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in IGNORED)
        rel = os.path.relpath(current, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        for name in sorted(files):
            if name.startswith(".") or name in IGNORED:
                continue
            yield rel, f"{rel}/{name}" if rel else name


def _raise(error: OSError) -> None:
    raise error


def _issue_kind(error: UploadError) -> str:
    if error.code in (CODE_UNSUPPORTED, CODE_BAD_MIME, CODE_DISABLED_FORMAT) or error.status == 415:
        return "unsupported"
    if error.status == 413:
        return "too_big"
    if error.code == CODE_INVALID:
        return "corrupt"
    return "error"


class _Albums:
    """The album of each relative folder, made on first use and remembered in the job."""

    def __init__(self, ctx: ImportContext, owner: User, top: Album | None) -> None:
        self.ctx = ctx
        self.owner = owner
        self.top = top
        self.top_depth = album_depth(album=top) if top is not None else -1
        self.cache: dict[str, Album | None] = {"": top}

    def of(self, rel: str) -> Album | None:
        if rel in self.cache:
            return self.cache[rel]
        parent_rel, _, name = rel.rpartition("/")
        parent = self.of(parent_rel)
        depth = (album_depth(album=parent) + 1) if parent is not None else 0
        if depth > Album.MAX_DEPTH:
            # Deeper than albums nest: the files join the deepest album allowed.
            self.cache[rel] = parent
            return parent
        key = "/" + rel
        target = self.ctx.target_of(key)
        album = Album.objects.filter(pk=target, owner=self.owner).first() if target else None
        if album is None:
            with transaction.atomic():
                album = album_create(owner=self.owner, name=name[:100] or "Album", parent=parent)
                if target:
                    # The album once made was deleted since: remember its replacement.
                    self.ctx.forget(key)
                self.ctx.remember(key, album.pk)
        self.cache[rel] = album
        return album


def _top_album(owner: User, album: object) -> Album | None:
    if album is None:
        return None
    if isinstance(album, int):
        return Album.objects.get(pk=album, owner=owner)
    existing = Album.objects.filter(owner=owner, name=album).order_by("pk").first()
    return existing or album_create(owner=owner, name=album)


def _copy_to_temp(path: str) -> str:
    fd, temp = tempfile.mkstemp(prefix="import-", suffix=".tmp", dir=settings.FILE_UPLOAD_TEMP_DIR)
    os.close(fd)
    try:
        shutil.copyfile(path, temp)
    except BaseException:
        os.unlink(temp)
        raise
    return temp


def _made_before_crash(
    ctx: ImportContext, *, source: SourceFile, owner: User, album: Album | None
) -> int | None:
    """The upload a previous run of this job made of this file but died before recording:
    same owner, bytes, name and album, made since the job was created."""
    return (
        Image.objects.filter(
            user=owner,
            source_md5=source.md5,
            original_filename=source.original_name[:255],
            album=album,
            created_at__gte=ctx.job.created_at,
        )
        .values_list("pk", flat=True)
        .first()
    )


def _import_file(
    ctx: ImportContext,
    *,
    path: str,
    key: str,
    owner: User,
    album: Album | None,
    resumed: bool,
) -> None:
    try:
        temp = _copy_to_temp(path)
    except OSError as exc:
        ctx.issue(key, "unreadable", f"The file cannot be read: {exc.strerror or exc}")
        return
    source = SourceFile(
        path=temp,
        size=os.path.getsize(temp),
        md5=md5_of_path(temp),
        original_name=os.path.basename(path),
    )
    if resumed:
        earlier = _made_before_crash(ctx, source=source, owner=owner, album=album)
        if earlier is not None:
            source.close()
            ctx.done(key, earlier)
            return
    try:
        result = image_upload(
            source=source,
            user=owner,
            ip=None,
            album_id=album.pk if album is not None else None,
            admin_import=True,
        )
    except UploadError as exc:
        if exc.code == CODE_DUPLICATE and exc.status == 409:
            # The site refuses duplicates: the owner has this file already, keep that one.
            existing = (
                Image.objects.filter(user=owner, source_md5=source.md5)
                .values_list("pk", flat=True)
                .first()
            )
            ctx.done(key, existing, skipped=True)
        else:
            ctx.issue(key, _issue_kind(exc), exc.message)
        return
    finally:
        source.close()
    # Recorded with the next batch: after a crash, `_made_before_crash` finds the upload.
    ctx.done_later(key, result.image.pk, skipped=not result.created)


def run(ctx: ImportContext) -> None:
    """Import the job's folder (see the module docstring)."""
    root = ctx.options["path"]
    if not os.path.isdir(root):
        raise FolderGone(f"The folder {root} is not there.")
    owner = User.objects.get(pk=ctx.options["user"])
    albums = _Albums(ctx, owner, _top_album(owner, ctx.options.get("album")))
    runs = int(ctx.state.get("runs", 0))
    # A run after an interrupted one checks each file against the uploads the job made; a
    # first run has no items to skip and asks nothing.
    resumed = runs > 0
    has_items = resumed or ImportItem.objects.filter(job=ctx.job).exists()
    ctx.save_state(runs=runs + 1)
    if not ctx.job.total:
        ctx.set_total(sum(1 for _ in _walk(root)))
    since, last_tick = 0, time.monotonic()
    for rel, key in _walk(root):
        if has_items and ctx.seen(key):
            continue
        ctx.attempt(key)
        path = os.path.join(root, key)
        if os.path.islink(path) and not os.path.realpath(path).startswith(
            os.path.realpath(root) + os.sep
        ):
            # A link out of the folder would import whatever it points at on this server.
            ctx.issue(key, "unsupported", "A symbolic link out of the folder is not followed.")
        else:
            _import_file(
                ctx, path=path, key=key, owner=owner, album=albums.of(rel), resumed=resumed
            )
        since += 1
        if since >= TICK_FILES or time.monotonic() - last_tick >= TICK_SECONDS:
            ctx.tick()
            since, last_tick = 0, time.monotonic()
