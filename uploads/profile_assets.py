"""Profile images (avatar, background): through the upload pipeline's checks, stored small.

A profile image passes the same gates as an upload (who may upload, URL uploads, the size
cap, content sniffing, the enabled formats and the pixel limit, see `uploads.services`),
then only pictures are taken: no video. The stored file is never the original: it is
rendered again (avatar: a square crop; background: at most BACKGROUND_MAX_WIDTH wide), so
no metadata of the original survives, and it is kept as JPEG, PNG or WebP under a random
name in `profiles/avatars/` or `profiles/backgrounds/`. The old file is deleted once the
new name is committed; a failure at any step leaves neither a new file nor a changed row.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image as PILImage

from accounts.models import User
from chevereto.core.models import SiteSettings
from uploads import policy, processing
from uploads.errors import CODE_INVALID, CODE_UNSUPPORTED, UploadError
from uploads.files import typed
from uploads.services import _probe_accepted
from uploads.sources import SourceFile

log = logging.getLogger(__name__)

AVATAR_SIZE = 256
BACKGROUND_MAX_WIDTH = 1920
KINDS = ("avatar", "background")
_FOLDERS = {"avatar": "profiles/avatars/", "background": "profiles/backgrounds/"}
# What a stored profile image's name looks like: anything else under /profiles/ is no
# profile image, and is answered 404 without a query.
STORED_NAME = re.compile(r"^profiles/(?:avatars|backgrounds)/[0-9a-f]{32}\.(?:jpg|png|webp)$")
# Originals in formats browsers show poorly (HEIC, BMP) or that would keep a single
# frame of an animation (GIF, AVIF) are stored as one of the three web formats.
_OUTPUT = {
    "jpeg": ("JPEG", "jpg"),
    "heic": ("JPEG", "jpg"),
    "png": ("PNG", "png"),
    "bmp": ("PNG", "png"),
    "webp": ("WEBP", "webp"),
    "gif": ("WEBP", "webp"),
    "avif": ("WEBP", "webp"),
}
_MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class _Rendered:
    data: bytes
    extension: str


def profile_image_mime(name: str) -> str:
    return _MIME[name.rsplit(".", 1)[1]]


def profile_image_precheck(*, user: User, origin: str) -> None:
    """The checks that need no file: run before a URL is fetched or a body decoded."""
    site = SiteSettings.load()
    policy.check_uploader(site=site, user=user)
    policy.check_origin(site=site, user=user, origin=origin)


def _render(source: SourceFile, *, kind: str, fmt: str) -> _Rendered:
    try:
        if kind == "avatar":
            made = processing.render_image_derivatives(
                source.path,
                source_format=fmt,
                thumb_size=(AVATAR_SIZE, AVATAR_SIZE),
                want_medium=False,
            ).thumb
            assert made is not None
        else:
            made = processing.resize_to_width(
                source.path, source_format=fmt, width=BACKGROUND_MAX_WIDTH
            )
    except processing.ProcessingError:
        raise UploadError("Invalid image: it cannot be decoded", code=CODE_INVALID) from None
    pil_format, extension = _OUTPUT[fmt]
    if made.extension == extension:
        return _Rendered(made.data, extension)
    # A small picture already upright and in sRGB: encoding it once more is cheap.
    with PILImage.open(io.BytesIO(made.data)) as picture:
        out = io.BytesIO()
        # RGBA keeps a GIF's transparent colour, which WebP has no palette for.
        picture.convert("RGBA").save(out, pil_format, quality=90)
    return _Rendered(out.getvalue(), extension)


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:
        log.warning("could not delete %s from storage", name, exc_info=True)


def _replace(*, user: User, kind: str, new_name: str) -> None:
    """Record `new_name` (or "" to clear) and delete the old file once that is committed."""
    with transaction.atomic():
        # Locked, so two changes at once each delete the file the other replaced.
        old = (
            User.objects.select_for_update().filter(pk=user.pk).values_list(kind, flat=True).first()
        )
        User.objects.filter(pk=user.pk).update(**{kind: new_name})
        if old:
            transaction.on_commit(lambda: _delete_quietly(old))
    setattr(user, kind, new_name)


def profile_image_set(*, user: User, kind: str, source: SourceFile) -> User:
    """Make `source` the user's avatar or background. The caller closes `source`."""
    if kind not in KINDS:
        raise ValueError(f"unknown profile image kind {kind!r}")
    site = SiteSettings.load()
    policy.check_uploader(site=site, user=user)
    policy.check_origin(site=site, user=user, origin=source.origin)
    policy.check_size(user=user, size=source.size)
    info = _probe_accepted(source, site)
    if info.kind != "image":
        raise UploadError(
            "A profile image must be a picture, not a video", code=CODE_UNSUPPORTED, status=415
        )
    rendered = _render(source, kind=kind, fmt=info.format)
    name = f"{_FOLDERS[kind]}{secrets.token_hex(16)}.{rendered.extension}"
    content = typed(
        ContentFile(rendered.data), mime=profile_image_mime(name), filename=name.rsplit("/")[-1]
    )
    stored = default_storage.save(name, content, max_length=255)
    try:
        _replace(user=user, kind=kind, new_name=stored)
    except BaseException:
        _delete_quietly(stored)
        raise
    return user


def profile_image_clear(*, user: User, kind: str) -> User:
    """Remove the user's avatar or background (the file goes after commit)."""
    if kind not in KINDS:
        raise ValueError(f"unknown profile image kind {kind!r}")
    _replace(user=user, kind=kind, new_name="")
    return user


def profile_image_owner(name: str) -> User | None:
    """The active user whose avatar or background is stored under `name`, if any.

    A banned user's images are gone with their profile; a replaced file is no longer
    anyone's, even before its deletion has run.
    """
    if not STORED_NAME.match(name):
        return None
    field = "avatar" if name.startswith(_FOLDERS["avatar"]) else "background"
    return User.objects.filter(is_active=True, **{field: name}).first()
