"""A user's data as one zip: every original under its album's folder, and `manifest.json`
with the account, the albums and each upload's metadata (GDPR-style portability, and the
way back in: the folder layout is what `import_folder` turns into albums again).

The zip is written to an anonymous temporary file, one stored file at a time copied in
chunks, and the manifest's image entries are spooled to a second temporary file as they
are met: memory stays flat whatever the account holds. The caller streams the returned
file (Django's FileResponse closes it, which deletes it).

Served by the dashboard, `/settings/export` and `GET /api/4/admin/users/{id}/export/`.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import encode_id
from uploads.models import Image
from uploads.storage import storage_of

MANIFEST_VERSION = 1
# Rows read per query: enough to keep queries few, small enough to keep memory flat.
_CHUNK = 500
_COPY_BUFFER = 1024 * 1024
# Uploads outside any album.
LOOSE_FOLDER = "images"
ALBUMS_FOLDER = "albums"
_UNSAFE = re.compile(r"[^\w .,()+&@-]+", re.UNICODE)


def export_filename(user: User) -> str:
    return f"{user.username}-export-{timezone.now():%Y%m%d}.zip"


def _safe_part(text: str, fallback: str) -> str:
    """One path segment from user text: no separators, no dot-names, not too long."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")[:80]
    return cleaned or fallback


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _album_folders(user: User) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The user's albums as manifest entries, and each album's folder in the zip (nested
    albums nest; two albums of one name in the same place get the id appended)."""
    albums = list(
        Album.objects.filter(owner=user)
        .order_by("created_at", "id")
        .values("id", "name", "description", "privacy", "parent_id", "created_at", "cover_id")
    )
    by_id = {a["id"]: a for a in albums}
    folders: dict[int, str] = {}
    taken: set[str] = set()

    def folder(album_id: int, depth: int = 0) -> str:
        if album_id in folders:
            return folders[album_id]
        album = by_id[album_id]
        parent_id = album["parent_id"]
        # The depth guard only matters for a corrupt tree (a cycle written outside the
        # services): it then lands at the top instead of looping.
        base = (
            folder(parent_id, depth + 1)
            if parent_id in by_id and depth < Album.MAX_DEPTH + 2
            else ALBUMS_FOLDER
        )
        name = f"{base}/{_safe_part(album['name'], 'album')}"
        if name.lower() in taken:
            name = f"{name} ({encode_id(album_id)})"
        taken.add(name.lower())
        folders[album_id] = name
        return name

    entries = []
    for album in albums:
        entries.append(
            {
                "id_encoded": encode_id(album["id"]),
                "name": album["name"],
                "description": album["description"],
                "privacy": album["privacy"],
                "parent_id": encode_id(album["parent_id"]) if album["parent_id"] else None,
                "cover_id": encode_id(album["cover_id"]) if album["cover_id"] else None,
                "created_at": _iso(album["created_at"]),
                "folder": folder(album["id"]),
            }
        )
    return entries, folders


def _images_of(user: User) -> Iterator[Image]:
    """Every upload of the user (expired ones waiting for deletion left out), in id order,
    read in chunks by keyset so no query holds them all."""
    now = timezone.now()
    rows = (
        Image.objects.filter(user=user)
        .exclude(expires_at__lte=now)
        .select_related("category")
        .prefetch_related("tags")
        .order_by("id")
    )
    last = 0
    while True:
        chunk = list(rows.filter(id__gt=last)[:_CHUNK])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].pk


def _image_entry(image: Image, file: str | None) -> dict[str, Any]:
    return {
        "id_encoded": encode_id(image.pk),
        "file": file,
        "type": image.kind,
        "title": image.title,
        "description": image.description,
        "original_filename": image.original_filename,
        "mime": image.mime,
        "size": image.size,
        "width": image.width,
        "height": image.height,
        "md5": image.md5,
        "album_id": encode_id(image.album_id) if image.album_id else None,
        "category": image.category.name if image.category_id else None,
        "tags": [tag.name for tag in image.tags.all()],
        "nsfw": image.nsfw,
        "is_approved": image.is_approved,
        "views": image.views,
        "likes": image.likes,
        "created_at": _iso(image.created_at),
        "expires_at": _iso(image.expires_at),
    }


def _zip_name(folder: str, image: Image, taken: set[str]) -> str:
    original = image.original_filename or image.path.rsplit("/", 1)[-1]
    stem, dot, ext = original.rpartition(".")
    if not dot:
        stem, ext = original, image.path.rsplit(".", 1)[-1] if "." in image.path else ""
    stem = _safe_part(stem, "file")
    ext = _safe_part(ext, "")[:10]
    name = f"{folder}/{stem}.{ext}" if ext else f"{folder}/{stem}"
    if name.lower() in taken:
        # Same name twice in one folder: the id tells them apart, and says which row it is.
        suffix = f"-{encode_id(image.pk)}"
        name = f"{folder}/{stem}{suffix}.{ext}" if ext else f"{folder}/{stem}{suffix}"
    taken.add(name.lower())
    return name


def user_export_write(*, user: User, out: IO[bytes]) -> dict[str, int]:
    """Write the user's zip to `out`; returns counts (files written, files missing)."""
    album_entries, folders = _album_folders(user)
    written = missing = 0
    taken: set[str] = set()
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive,
        tempfile.TemporaryFile("w+", encoding="utf-8") as spool,
    ):
        for count, image in enumerate(_images_of(user)):
            folder = folders.get(image.album_id or 0, LOOSE_FOLDER)
            name: str | None = _zip_name(folder, image, taken)
            try:
                with storage_of(image).open(image.path, "rb") as source:
                    info = zipfile.ZipInfo(name, date_time=_zip_time(image.created_at))
                    # Media files are compressed already: stored, not deflated again.
                    info.compress_type = zipfile.ZIP_STORED
                    with archive.open(info, "w", force_zip64=True) as target:
                        shutil.copyfileobj(source, target, _COPY_BUFFER)
                written += 1
            except (FileNotFoundError, OSError):
                # A row whose file is gone (a storage mishap): listed without a file.
                missing += 1
                name = None
            spool.write(("," if count else "") + json.dumps(_image_entry(image, name)))
        spool.seek(0)
        head = {
            "version": MANIFEST_VERSION,
            "exported_at": timezone.now().isoformat(),
            "user": _user_entry(user),
            "albums": album_entries,
        }
        with archive.open("manifest.json", "w", force_zip64=True) as manifest:
            opening = json.dumps(head, indent=1)[:-2] + ',\n "images": ['
            manifest.write(opening.encode())
            while chunk := spool.read(64 * 1024):
                manifest.write(chunk.encode())
            manifest.write(b"]\n}\n")
    return {"files": written, "missing": missing, "albums": len(album_entries)}


def _zip_time(value: datetime) -> tuple[int, int, int, int, int, int]:
    # Zip dates start in 1980.
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    if local.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _user_entry(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "bio": user.bio,
        "website": user.website,
        "is_private": user.is_private,
        "date_joined": _iso(user.date_joined),
        "image_count": user.image_count,
        "album_count": user.album_count,
    }


def user_export(*, user: User) -> IO[bytes]:
    """The user's zip in an anonymous temporary file, rewound, for the caller to stream and
    close (closing deletes it)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller's response closes it)
    try:
        user_export_write(user=user, out=out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
