"""The upload policy: who may upload what, how much, how often, and where.

Each rule lives here once. `services.image_upload` runs every one of them itself;
`upload_precheck` is the subset that needs no file, which callers may run early so that
nothing is read or fetched for a request that will be refused anyway.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.models import SiteSettings
from uploads.errors import (
    CODE_DISABLED_FORMAT,
    CODE_FLOOD,
    CODE_FORBIDDEN,
    CODE_INVALID,
    CODE_URL_DISABLED,
    UploadError,
    too_big,
)
from uploads.models import Category, Image, UploadAttempt
from uploads.sources import Origin

MB = 1024 * 1024


def is_admin(user: User | None) -> bool:
    return user is not None and (user.is_staff or user.is_superuser)


# -- size -------------------------------------------------------------------------------


def max_upload_bytes(*, user: User | None) -> int:
    site = SiteSettings.load()
    return (site.user_max_filesize_mb if user is not None else site.guest_max_filesize_mb) * MB


def largest_upload_bytes() -> int:
    """The largest file anyone may upload: the bound for a body whose key is not known yet."""
    site = SiteSettings.load()
    return max(site.user_max_filesize_mb, site.guest_max_filesize_mb) * MB


def check_size(*, user: User | None, size: int) -> None:
    limit = max_upload_bytes(user=user)
    if size > limit:
        raise too_big(limit)


# -- who, and from where ----------------------------------------------------------------


def check_uploader(*, site: SiteSettings, user: User | None) -> None:
    if user is None and not site.guest_uploads:
        raise UploadError("Guest uploads are disabled", code=CODE_FORBIDDEN, status=403)
    if user is not None and not user.is_active:
        raise UploadError("Uploads are not allowed for this user", code=CODE_FORBIDDEN, status=403)


def check_origin(*, site: SiteSettings, user: User | None, origin: str) -> None:
    if origin != Origin.URL:
        return
    allowed = {
        SiteSettings.UrlUploads.OFF: False,
        SiteSettings.UrlUploads.ADMINS: is_admin(user),
        SiteSettings.UrlUploads.USERS: user is not None,
        SiteSettings.UrlUploads.EVERYONE: True,
    }[SiteSettings.UrlUploads(site.url_uploads)]
    if not allowed:
        raise UploadError("URL uploads are disabled", code=CODE_URL_DISABLED, status=403)


def check_flood(*, site: SiteSettings, user: User | None, ip: str | None) -> None:
    if not site.flood_protection or is_admin(user):
        return
    limits = site.flood_limits()
    if not limits:
        return
    now = timezone.now()
    longest = max(window for _, window, _ in limits)
    # Users are counted by account (colleagues behind one NAT do not share a quota),
    # guests by address.
    who = Q(user=user) if user is not None else Q(user__isnull=True, uploader_ip=ip)
    totals = dict.fromkeys((label for label, _, _ in limits), 0)
    # New rows and the answers that made none (duplicates) both count; one query each
    # counts every window at once.
    for model in (Image, UploadAttempt):
        counts = model.objects.filter(
            who, created_at__gte=now - timedelta(seconds=longest)
        ).aggregate(
            **{
                label: Count("pk", filter=Q(created_at__gte=now - timedelta(seconds=window)))
                for label, window, _ in limits
            }
        )
        for label in totals:
            totals[label] += counts[label]
    for label, _, limit in limits:
        if totals[label] >= limit:
            raise UploadError(
                f"Flood detected: too many uploads in the last {label}",
                code=CODE_FLOOD,
                status=429,
            )


def upload_attempt_record(*, user: User | None, ip: str | None) -> None:
    """Count an upload that made no row, and forget the ones no flood window still sees."""
    now = timezone.now()
    UploadAttempt.objects.filter(created_at__lt=now - timedelta(days=31)).delete()
    UploadAttempt.objects.create(user=user, uploader_ip=ip, created_at=now)


def upload_precheck(*, user: User | None, ip: str | None, origin: str = Origin.FILE) -> None:
    """The checks that need no file: run them before reading or fetching anything.

    `image_upload` runs them again on the source it gets: this is an early answer, not a
    pass that lets anything skip a check.
    """
    site = SiteSettings.load()
    check_uploader(site=site, user=user)
    check_origin(site=site, user=user, origin=origin)
    check_flood(site=site, user=user, ip=ip)


# -- options ----------------------------------------------------------------------------


def invalid_album() -> UploadError:
    """The answer for an album that is missing, malformed or someone else's: all look alike."""
    return UploadError("Invalid album: it is not yours", code=CODE_INVALID, status=403)


def album_for_upload(*, user: User | None, album_id: int | None) -> Album | None:
    if album_id is None:
        return None
    if user is None:
        raise invalid_album()
    album = Album.objects.filter(pk=album_id, owner=user).first()
    if album is None:
        raise invalid_album()
    return album


def category_for_upload(*, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise UploadError("Invalid category", code=CODE_INVALID, status=400)
    return category


def check_expirable(*, site: SiteSettings, expiring: bool) -> None:
    if expiring and not site.expirable_uploads:
        raise UploadError("Expiring uploads are disabled on this site", code=CODE_INVALID)


def check_file_date(*, user: User | None, use_file_date: bool) -> None:
    if use_file_date and not is_admin(user):
        raise UploadError("use_file_date is for admins only", code=CODE_FORBIDDEN, status=403)


def check_format(*, site: SiteSettings, extension: str) -> None:
    if extension not in site.formats:
        raise UploadError(
            f"Disabled file format: {extension}", code=CODE_DISABLED_FORMAT, status=415
        )
