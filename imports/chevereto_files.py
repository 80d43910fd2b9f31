"""The files of an imported Chevereto upload: where they were, where they go, copying them.

Chevereto keeps an upload at `images/YYYY/MM/DD/{name}.{ext}` (datefolder, from the local
`image_date`), `images/{name}.{ext}` (direct), `images/old/...` (old) or under the folder in
`image_path` (path). The copy keeps the same storage name, so every old file URL answers,
and the derivatives (`.th`, `.md`, `.fr`) that exist are copied under their old names
instead of being made again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from django.core.files import File
from django.core.files.storage import Storage
from PIL import Image as PILImage

from chevereto.core.formats import FORMATS
from uploads.files import typed, variant_file
from uploads.models import Image

# Extensions Chevereto writes, to (kind, MIME type). "jpeg" is an older spelling of jpg.
EXTENSIONS: dict[str, tuple[str, str]] = {
    **{f.extension: (f.kind, f.mime) for f in FORMATS.values()},
    "jpeg": ("image", "image/jpeg"),
    "jpe": ("image", "image/jpeg"),
    "m4v": ("video", "video/mp4"),
}


# Extensions a derivative may have been written with, tried after the expected one.
STILL_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "gif")


def storage_folder(row: dict[str, Any]) -> str:
    """The storage folder (`images/2024/06/04/`) of a Chevereto image row."""
    mode = str(row.get("image_storage_mode") or "datefolder")
    if mode == "direct":
        return "images/"
    if mode == "old":
        return "images/old/"
    if mode == "path":
        folder = str(row.get("image_path") or "").replace("\\", "/").strip("/")
        # Some sites stored an absolute path: keep what follows the last `images/`.
        at = folder.rfind("images/")
        if at >= 0:
            folder = folder[at:]
        elif folder != "images":
            folder = f"images/{folder}" if folder else "images"
        return folder.rstrip("/") + "/"
    local = row.get("image_date")
    if not isinstance(local, datetime):
        local = row.get("image_date_gmt")
    if not isinstance(local, datetime):
        raise ValueError("the row has no image_date")
    return local.strftime("images/%Y/%m/%d/")


def safe_name(name: str) -> bool:
    """A storage name that stays under the media root (no `..`, no absolute path)."""
    parts = name.split("/")
    return not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


@dataclass
class CopiedFile:
    name: str
    size: int
    md5: str = ""
    width: int = 0
    height: int = 0


class _HashingReader:
    """A file wrapper that computes the md5 of what the storage reads through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.md5(usedforsecurity=False)

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0:
            self.digest = hashlib.md5(usedforsecurity=False)
        return self.handle.seek(offset, whence)

    def tell(self) -> int:
        return self.handle.tell()

    @property
    def closed(self) -> bool:
        # Asked by Django's File before an S3 storage reads it.
        return self.handle.closed


def copy_into(
    storage: Storage, source: str, name: str, *, mime: str, want_md5: bool = False
) -> CopiedFile:
    """Copy a file to the storage under exactly `name`, replacing a copy left by an
    interrupted run; an S3 object carries `mime` and the disposition the site serves."""
    size = os.path.getsize(source)
    if storage.exists(name):
        storage.delete(name)
    with open(source, "rb") as handle:
        reader = _HashingReader(handle)
        content = typed(File(reader, name=name), mime=mime, filename=name.rsplit("/", 1)[-1])  # type: ignore[arg-type]
        stored = storage.save(name, content, max_length=255)
    if stored != name:
        storage.delete(stored)
        raise OSError(f"the storage kept {stored} instead of {name}")
    return CopiedFile(name=name, size=size, md5=reader.digest.hexdigest() if want_md5 else "")


def picture_size(path: str) -> tuple[int, int]:
    """Width and height from the header (no decoding); (0, 0) for anything unreadable."""
    try:
        with PILImage.open(path) as im:
            return im.size
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return 0, 0


def derivatives_to_copy(image: Image, root: str) -> dict[str, tuple[str, str, str]]:
    """{variant: (storage name, source path, type)} of the derivatives found next to the
    original.

    Looked for under the name this site gives them (which is Chevereto's); one written with
    another still-image extension (`.th.jpg` for `.th.jpeg`) is taken too, under our name,
    rather than made again."""
    found: dict[str, tuple[str, str]] = {}
    for variant in ("thumb", "medium", "frame"):
        stored = variant_file(image, variant)
        if stored is None:
            continue
        base = stored.name.rsplit(".", 1)[0]
        for name in (stored.name, *(f"{base}.{ext}" for ext in STILL_EXTENSIONS)):
            path = os.path.join(root, name)
            if safe_name(name) and os.path.isfile(path):
                found[variant] = (stored.name, path, stored.mime)
                break
    return found
