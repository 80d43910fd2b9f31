"""import_chevereto, profile images: each imported user's avatar and background, through the
profile image pipeline (checked, resized and named as any new one).

Chevereto keeps them as `images/users/{user id_encoded}/{filename}` (the file name is in
`user_avatar_filename` / `user_background_filename`); the plain numeric id folder is tried
too. A missing or unreadable one is reported and the user keeps no picture.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from django.conf import settings

from accounts.models import User
from chevereto.core.idcodec import IdCodec
from imports.chevereto_files import safe_name
from imports.chevereto_images import note
from imports.chevereto_source import Row, Source, text
from imports.runner import ImportContext
from uploads.errors import UploadError
from uploads.profile_assets import profile_image_set
from uploads.sources import SourceFile, md5_of_path

COLUMNS = {"avatar": "user_avatar_filename", "background": "user_background_filename"}


def _candidates(codec: IdCodec, user_id: int, filename: str) -> list[str]:
    return [
        f"images/users/{codec.encode(user_id)}/{filename}",
        f"images/users/{user_id}/{filename}",
    ]


def profiles_import(ctx: ImportContext, source: Source, users: dict[int, int], media: str) -> None:
    if not any(source.has("users", column) for column in COLUMNS.values()):
        return
    codec = IdCodec(str(ctx.state.get("salt", "")), int(ctx.state.get("padding", 0)))
    after = int(ctx.state.get("profiles_after", 0))
    for rows in source.pages("users", "user_id", after=after, size=100):
        for row in rows:
            pk = users.get(int(row["user_id"]))
            if pk is not None:
                _profile_images(ctx, row, pk, codec, media)
        ctx.save_state(profiles_after=int(rows[-1]["user_id"]))
        ctx.tick()


def _profile_images(ctx: ImportContext, row: Row, pk: int, codec: IdCodec, media: str) -> None:
    old_id = int(row["user_id"])
    for kind, column in COLUMNS.items():
        filename = text(row.get(column)).strip()
        key = f"{kind}:{old_id}"
        if not filename or ctx.seen(key):
            continue
        found = next(
            (
                os.path.join(media, name)
                for name in _candidates(codec, old_id, filename)
                if safe_name(name) and os.path.isfile(os.path.join(media, name))
            ),
            None,
        )
        if found is None:
            note(ctx, key, "missing", f"The {kind} {filename[:100]} is not in the media folder.")
        else:
            _set(ctx, key, kind, pk, found)
        # Not an item of the progress: remembered so a resumed run does not redo it.
        ctx.remember(key, pk)


def _set(ctx: ImportContext, key: str, kind: str, pk: int, path: str) -> None:
    user = User.objects.get(pk=pk)
    if not user.is_active:
        note(ctx, key, "skipped", f"A banned or unconfirmed user's {kind} is not imported.")
        return
    # The pipeline may move its source into storage: hand it a copy, never the old file.
    fd, temp = tempfile.mkstemp(prefix="chv-profile-", dir=settings.FILE_UPLOAD_TEMP_DIR)
    os.close(fd)
    shutil.copyfile(path, temp)
    source = SourceFile(
        path=temp, size=os.path.getsize(temp), md5=md5_of_path(temp), original_name=key
    )
    try:
        profile_image_set(user=user, kind=kind, source=source)
    except UploadError as exc:
        note(ctx, key, "corrupt", f"The {kind} was refused: {exc}")
    finally:
        source.close()
