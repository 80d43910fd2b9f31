"""Writes for uploads: the ingest pipeline (policy, transforms, storage, row)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from uploads import metadata, probe, processing
from uploads.errors import (
    CODE_DISABLED_FORMAT,
    CODE_DUPLICATE,
    CODE_FLOOD,
    CODE_FORBIDDEN,
    CODE_INVALID,
    CODE_UNSUPPORTED,
    CODE_URL_DISABLED,
    UploadError,
)
from uploads.files import all_files
from uploads.models import Category, Image, Tag
from uploads.naming import candidate_names, folder_for, random_name
from uploads.sources import SourceFile, md5_of_path, too_big

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class UploadResult:
    image: Image
    created: bool
    # The delete token, shown once; None when an existing upload was returned.
    delete_token: str | None


def delete_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def max_upload_bytes(*, user: User | None) -> int:
    site = SiteSettings.load()
    return (site.user_max_filesize_mb if user is not None else site.guest_max_filesize_mb) * MB


def largest_upload_bytes() -> int:
    """The largest file anyone may upload: the bound for a body whose key is not known yet."""
    site = SiteSettings.load()
    return max(site.user_max_filesize_mb, site.guest_max_filesize_mb) * MB


def _is_admin(user: User | None) -> bool:
    return user is not None and (user.is_staff or user.is_superuser)


def upload_precheck(*, user: User | None, ip: str | None, from_url: bool = False) -> None:
    """The checks that need no file: run them before reading or fetching anything."""
    site = SiteSettings.load()
    if user is None and not site.guest_uploads:
        raise UploadError("Guest uploads are disabled", code=CODE_FORBIDDEN, status=403)
    if user is not None and not user.is_active:
        raise UploadError("Uploads are not allowed for this user", code=CODE_FORBIDDEN, status=403)
    if from_url:
        allowed = {
            SiteSettings.UrlUploads.OFF: False,
            SiteSettings.UrlUploads.ADMINS: _is_admin(user),
            SiteSettings.UrlUploads.USERS: user is not None,
            SiteSettings.UrlUploads.EVERYONE: True,
        }[SiteSettings.UrlUploads(site.url_uploads)]
        if not allowed:
            raise UploadError("URL uploads are disabled", code=CODE_URL_DISABLED, status=403)
    _check_flood(site=site, user=user, ip=ip)


def _check_flood(*, site: SiteSettings, user: User | None, ip: str | None) -> None:
    if not site.flood_protection or _is_admin(user):
        return
    limits = site.flood_limits()
    if not limits:
        return
    now = timezone.now()
    longest = max(window for _, window, _ in limits)
    # Users are counted by account (colleagues behind one NAT do not share a quota),
    # guests by address.
    who = Q(user=user) if user is not None else Q(user__isnull=True, uploader_ip=ip)
    # One query counts every window at once.
    counts = Image.objects.filter(who, created_at__gte=now - timedelta(seconds=longest)).aggregate(
        **{
            label: Count("pk", filter=Q(created_at__gte=now - timedelta(seconds=window)))
            for label, window, _ in limits
        }
    )
    for label, _, limit in limits:
        if counts[label] >= limit:
            raise UploadError(
                f"Flood detected: too many uploads in the last {label}",
                code=CODE_FLOOD,
                status=429,
            )


def _album_for(*, user: User | None, album_id: int | None) -> Album | None:
    if album_id is None:
        return None
    album = Album.objects.filter(pk=album_id).first() if user is not None else None
    if album is None or album.owner_id != user.pk:  # type: ignore[union-attr]
        raise UploadError("Invalid album: it is not yours", code=CODE_INVALID, status=403)
    return album


def _category_for(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise UploadError("Invalid category", code=CODE_INVALID, status=400)
    return category


def _probe(path: str) -> probe.Probe:
    try:
        return probe.probe_file(path, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except probe.TooManyPixels as exc:
        raise UploadError(exc.message, code=CODE_INVALID, status=400) from None
    except probe.UnsupportedFormat as exc:
        raise UploadError(exc.message, code=CODE_UNSUPPORTED, status=415) from None
    except probe.ProbeError as exc:
        raise UploadError(exc.message, code=CODE_INVALID, status=400) from None


def _title_from_name(original: str) -> str | None:
    stem = os.path.basename(original.replace("\\", "/")).rsplit(".", 1)[0]
    words = " ".join(re.sub(r"[_\W]+", " ", stem).split())
    return words[:100] or None


class _LocalFile(File):
    """A file on local disk that FileSystemStorage may move into place instead of copying."""

    def __init__(self, path: str) -> None:
        super().__init__(open(path, "rb"), name=os.path.basename(path))  # noqa: SIM115
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def _rewrite(source_path: str, write: object) -> str:
    """Run ``write(handle)`` into a new temporary file; returns its path."""
    fd, path = tempfile.mkstemp(prefix="upload-", suffix=".tmp", dir=settings.FILE_UPLOAD_TEMP_DIR)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)  # type: ignore[operator]
    except BaseException:
        os.unlink(path)
        raise
    return path


@dataclass
class _Prepared:
    path: str
    probe: probe.Probe
    size: int
    md5: str
    temp: bool  # a file we made and must delete


def _prepare(
    source: SourceFile, info: probe.Probe, *, width: int | None, keep_exif: bool
) -> _Prepared:
    """Apply the transforms an upload asks for; the original stays byte for byte otherwise."""
    path = source.path
    made: str | None = None
    try:
        resize = (
            info.kind == "image"
            and not info.is_animated
            and width is not None
            and width < info.width
        )
        if resize or info.format == "bmp":
            target = width if resize else info.width
            try:
                rendition = processing.resize_to_width(
                    path, source_format=info.format, width=target
                )
            except processing.ProcessingError:
                raise UploadError(
                    "Invalid image: it cannot be decoded", code=CODE_INVALID
                ) from None
            made = _rewrite(path, lambda h: h.write(rendition.data))
        elif not keep_exif and info.format in {"jpeg", "png", "webp"}:

            def strip(handle: object) -> None:
                if not metadata.strip_metadata(
                    path,
                    handle,
                    fmt=info.format,
                    orientation=info.orientation,  # type: ignore[arg-type]
                ):
                    raise metadata.MetadataError("not handled")

            try:
                made = _rewrite(path, strip)
            except metadata.MetadataError:
                made = None
        if made is None:
            return _Prepared(path=path, probe=info, size=source.size, md5=source.md5, temp=False)
        return _Prepared(
            path=made,
            probe=_probe(made),
            size=os.path.getsize(made),
            md5=md5_of_path(made),
            temp=True,
        )
    except BaseException:
        if made is not None:
            os.unlink(made)
        raise


def _store(prepared: _Prepared, source: SourceFile, *, names: list[str], folder: str) -> str:
    storage = default_storage
    name = next((folder + n for n in names if not storage.exists(folder + n)), folder + names[-1])
    content = _LocalFile(prepared.path)
    try:
        stored = storage.save(name, content, max_length=255)
    finally:
        content.close()
    if not os.path.exists(prepared.path):
        # Moved into place rather than copied: nothing left to clean up.
        if prepared.temp:
            prepared.temp = False
        else:
            source.consumed = True
    return stored


def _expected_derivatives(info: probe.Probe, site: SiteSettings) -> dict[str, int]:
    dims = {"thumb_width": site.thumb_width, "thumb_height": site.thumb_height}
    if info.kind == "image" and (info.width > site.medium_width or info.is_animated):
        medium_w = min(site.medium_width, info.width)
        dims["medium_width"] = medium_w
        dims["medium_height"] = max(1, round(info.height * medium_w / info.width))
    return dims


def _tags_for(names: list[str]) -> list[Tag]:
    tags: list[Tag] = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name)
            except IntegrityError:
                tag = Tag.objects.get(name__iexact=name)
        tags.append(tag)
    return tags


def _existing_duplicate(*, user: User | None, md5: str, now: datetime) -> Image | None:
    if user is None:
        return None
    return (
        Image.objects.filter(user=user, source_md5=md5)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("pk")
        .first()
    )


def image_upload(
    *,
    source: SourceFile,
    user: User | None,
    ip: str | None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    album_id: int | None = None,
    category_id: int | None = None,
    width: int | None = None,
    nsfw: bool = False,
    expires_at: datetime | None = None,
    use_file_date: bool = False,
    prechecked: bool = False,
) -> UploadResult:
    """Validate, transform, store and record one upload. The caller closes ``source``."""
    site = SiteSettings.load()
    now = timezone.now()
    if not prechecked:
        upload_precheck(user=user, ip=ip)
    if use_file_date and not _is_admin(user):
        raise UploadError("use_file_date is for admins only", code=CODE_FORBIDDEN, status=403)
    if expires_at is not None and not site.expirable_uploads:
        raise UploadError("Expiring uploads are disabled on this site", code=CODE_INVALID)
    album = _album_for(user=user, album_id=album_id)
    category = _category_for(category_id)
    limit = max_upload_bytes(user=user)
    if source.size > limit:
        raise too_big(limit)

    info = _probe(source.path)
    if info.extension not in site.formats:
        raise UploadError(
            f"Disabled file format: {info.extension}", code=CODE_DISABLED_FORMAT, status=415
        )

    if site.duplicate_policy != SiteSettings.DuplicatePolicy.ALLOW:
        existing = _existing_duplicate(user=user, md5=source.md5, now=now)
        if existing is not None:
            if site.duplicate_policy == SiteSettings.DuplicatePolicy.REFUSE:
                raise UploadError("Duplicated upload", code=CODE_DUPLICATE, status=409)
            return UploadResult(image=existing, created=False, delete_token=None)

    prepared = _prepare(source, info, width=width, keep_exif=site.keep_exif)
    stored: str | None = None
    reserved: int | None = None
    try:
        final = prepared.probe
        token = secrets.token_hex(24)
        created_at = now
        if use_file_date and final.date_taken is not None:
            taken = final.date_taken
            created_at = timezone.make_aware(taken) if timezone.is_naive(taken) else taken
        moderated = site.moderation == SiteSettings.Moderation.ALL or (
            site.moderation == SiteSettings.Moderation.GUEST and user is None
        )
        image = Image(
            user=user,
            album=album,
            category=category,
            kind=final.kind,
            path="",
            storage_mode=site.storage_mode,
            original_filename=(source.original_name or "")[:255],
            mime=final.mime,
            size=prepared.size,
            width=final.width,
            height=final.height,
            bits=final.bits,
            channels=final.channels,
            md5=prepared.md5,
            source_md5=source.md5,
            exif=final.exif if site.keep_exif else None,
            is_animated=final.is_animated,
            is_360=final.is_360,
            duration=final.duration,
            title=title or info.title or _title_from_name(source.original_name) or "",
            description=description or info.description or "",
            nsfw=nsfw,
            is_approved=not moderated,
            created_at=created_at,
            expires_at=expires_at,
            uploader_ip=ip,
            delete_token_digest=delete_token_digest(token),
            **_expected_derivatives(final, site),
        )
        folder = folder_for(now, storage_mode=site.storage_mode)
        force_random = album is not None and album.wants_random_names
        encoded: str | None = None
        if site.file_naming == SiteSettings.FileNaming.ID and not force_random:
            # The name is the public id, known only once the row exists: reserve the row
            # first (under a name no file can have), then store, then record the name.
            image.path = f"{folder}{random_name(24)}.pending"
            image.chain = 0
            image.save()
            reserved = image.pk
            encoded = encode_id(image.pk)
        names = candidate_names(
            original=source.original_name or "",
            extension=final.extension,
            naming=site.file_naming,
            force_random=force_random,
            encoded_id=encoded,
        )
        stored = _store(prepared, source, names=names, folder=folder)
        image.path = stored
        image.chain = Image.CHAIN_IMAGE
        with transaction.atomic():
            image.save()
            if tags:
                image.tags.set(_tags_for(tags))
            transaction.on_commit(lambda: enqueue_derivatives(image.pk))
    except BaseException:
        if stored is not None:
            _delete_quietly(stored)
        if reserved is not None:
            Image.objects.filter(pk=reserved).delete()
        raise
    finally:
        if prepared.temp:
            os.unlink(prepared.path)
    return UploadResult(image=image, created=True, delete_token=token)


def enqueue_derivatives(image_id: int) -> None:
    """Queue the derivatives; a broker that is down must not fail the upload."""
    from uploads.tasks import generate_derivatives

    try:
        generate_derivatives.delay(image_id)
    except Exception:  # the on-demand fallback makes them when first requested
        log.warning("could not enqueue derivatives for image %s", image_id, exc_info=True)


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:
        log.warning("could not delete %s from storage", name, exc_info=True)


def image_delete(*, image: Image) -> None:
    """Delete the row, then every file of it (after commit: a rollback keeps them)."""
    names = [f.name for f in all_files(image)]
    with transaction.atomic():
        Image.objects.filter(pk=image.pk).delete()
        transaction.on_commit(lambda: [_delete_quietly(n) for n in names])


def image_delete_token_valid(*, image: Image, token: str) -> bool:
    return bool(image.delete_token_digest) and hmac.compare_digest(
        delete_token_digest(token), image.delete_token_digest
    )
