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

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage as DjangoStorage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from albums.models import Album
from chevereto.core.dbcommit import CONNECTION_ERRORS, landed
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings
from uploads import metadata, policy, probe, processing
from uploads.counters import image_counts_changed
from uploads.errors import (
    CODE_DUPLICATE,
    CODE_INVALID,
    CODE_UNSUPPORTED,
    UploadError,
    storage_failed,
)
from uploads.files import all_files, typed
from uploads.models import Category, Image, Tag
from uploads.naming import candidate_names, folder_for, random_name
from uploads.policy import largest_upload_bytes, max_upload_bytes, upload_precheck
from uploads.selectors import images_live
from uploads.sources import SourceFile, md5_of_path
from uploads.storage import storage_by_id, storage_for_new_files, storage_id_of

__all__ = [
    "UploadOptions",
    "UploadResult",
    "image_delete",
    "image_delete_token_issue",
    "image_delete_token_valid",
    "image_upload",
    "largest_upload_bytes",
    "max_upload_bytes",
    "upload_precheck",
]

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class UploadResult:
    image: Image
    created: bool
    # The delete token for the uploader: made for a new upload, derived again (or renewed)
    # when the same uploader gets their existing upload back.
    delete_token: str | None


@dataclass(frozen=True)
class UploadOptions:
    """What the client asked for besides the file, already parsed (see uploads.params)."""

    title: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    album_id: int | None = None
    category_id: int | None = None
    width: int | None = None
    nsfw: bool = False
    expires_at: datetime | None = None
    use_file_date: bool = False
    # An admin's import (imports.folder): the flood limits, which guard against clients,
    # do not apply; every other rule does.
    admin_import: bool = False


@dataclass(frozen=True)
class _Checked:
    """The options once the policy accepted them."""

    site: SiteSettings
    now: datetime
    album: Album | None
    category: Category | None


def delete_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _derive_delete_token(*, salt: str, pk: int | None = None) -> str:
    # Deterministic, so the uploader can be shown the same link again; keyed by the site's
    # secret and the upload's own random salt, so nobody can compute it from the public id.
    # Known before the row is written, so the row is written once. Tokens issued before
    # (`pk` given) covered the primary key as well, and are still recognised.
    message = (f"image-delete:{salt}" if pk is None else f"image-delete:{pk}:{salt}").encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:48]


def image_delete_token_issue(*, image: Image) -> str:
    """The upload's delete token, to show its uploader (and nobody else).

    Derived again from the stored salt when it still matches the stored digest; otherwise
    (an upload made before salts, or a rotated SECRET_KEY) a new one replaces it.
    """
    if image.delete_salt and image.delete_token_digest:
        for pk in (None, image.pk):
            token = _derive_delete_token(salt=image.delete_salt, pk=pk)
            if hmac.compare_digest(delete_token_digest(token), image.delete_token_digest):
                return token
    image.delete_salt = secrets.token_hex(16)
    token = _derive_delete_token(salt=image.delete_salt)
    image.delete_token_digest = delete_token_digest(token)
    Image.objects.filter(pk=image.pk).update(
        delete_salt=image.delete_salt, delete_token_digest=image.delete_token_digest
    )
    return token


def _without_paths(message: str, path: str) -> str:
    # Decoders name the file they failed on; a client must never learn server paths.
    for secret in (path, os.path.dirname(path), settings.FILE_UPLOAD_TEMP_DIR):
        if secret:
            message = message.replace(secret, "")
    return re.sub(r"(?:[A-Za-z]:)?[\\/][^\s'\"]*[\\/][^\s'\"]*", "the file", message)


def _probe(path: str) -> probe.Probe:
    try:
        return probe.probe_file(path, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except probe.TooManyPixels as exc:
        raise UploadError(_without_paths(exc.message, path), code=CODE_INVALID) from None
    except probe.UnsupportedFormat as exc:
        raise UploadError(
            _without_paths(exc.message, path), code=CODE_UNSUPPORTED, status=415
        ) from None
    except probe.ProbeError as exc:
        raise UploadError(_without_paths(exc.message, path), code=CODE_INVALID) from None


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
        elif not keep_exif and info.kind == "image":

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
                # Privacy fails closed: an image whose metadata cannot be removed is not
                # stored with it.
                raise UploadError(
                    "Invalid image: its metadata cannot be removed", code=CODE_INVALID
                ) from None
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


def _store(
    prepared: _Prepared,
    source: SourceFile,
    *,
    names: list[str],
    folder: str,
    storage: DjangoStorage,
    mime: str,
    first_may_be_taken: bool,
) -> str:
    content = _LocalFile(prepared.path)
    try:
        stored = _save_under_a_free_name(
            storage,
            content,
            [folder + n for n in names],
            mime,
            first_may_be_taken,
            md5=prepared.md5,
        )
    finally:
        content.close()
    if not os.path.exists(prepared.path):
        # Moved into place rather than copied: nothing left to clean up.
        if prepared.temp:
            prepared.temp = False
        else:
            source.consumed = True
    return stored


def _save_under_a_free_name(
    storage: DjangoStorage,
    content: File,
    names: list[str],
    mime: str,
    first_may_be_taken: bool,
    *,
    md5: str = "",
) -> str:
    """Save under the first of ``names`` no file has; past the last, a name the storage
    picks. A storage that can refuse to overwrite (``save_new``: S3's conditional write)
    is asked for each name in turn. When the first name is often taken (an original's:
    "image.jpg") the rows are asked first, not the bucket (an index lookup, not a request
    to S3), so the upload is rarely sent twice; a file no row owns is refused by the write.
    ``md5`` is that of ``content``'s bytes, for the bucket to check."""

    def marked(name: str) -> File:
        return typed(content, mime=mime, filename=name.rsplit("/", 1)[-1], md5=md5)

    save_new = getattr(storage, "save_new", None)
    if save_new is None:
        name = next((n for n in names if not storage.exists(n)), names[-1])
        return storage.save(name, marked(name), max_length=255)
    for index, name in enumerate(names):
        if index == 0 and first_may_be_taken and Image.objects.filter(path=name).exists():
            continue
        try:
            return str(save_new(name, marked(name), max_length=255))
        except FileExistsError:
            continue
    return storage.save(names[-1], marked(names[-1]), max_length=255)


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
                # Made meanwhile by another request, or another name has the same slug
                # ("!" and "?" both slug to "tag"): the latter gets a slug of its own.
                tag = Tag.objects.filter(name__iexact=name).first() or _tag_with_own_slug(name)
        tags.append(tag)
    return tags


def _tag_with_own_slug(name: str) -> Tag:
    stem = (slugify(name, allow_unicode=True)[:50] or "tag").strip("-") or "tag"
    with transaction.atomic():
        return Tag.objects.create(name=name, slug=f"{stem}-{secrets.token_hex(4)}")


# -- duplicates ---------------------------------------------------------------------------

# Two deadlines this close are the same promise: a client re-sending the same request a few
# seconds later asked for the same thing.
_SAME_DEADLINE = timedelta(seconds=60)


def _existing_duplicate(*, user: User | None, md5: str) -> Image | None:
    # Guests are never matched: an address is no identity, and returning a guest upload
    # would hand its delete link to whoever sends the same bytes.
    if user is None:
        return None
    # Asked for its id alone: the usual answer is "none", and the whole row is read only
    # when there is one (0.3 ms instead of 0.5 for the usual answer, on SQLite).
    found = (
        images_live()
        .filter(user=user, source_md5=md5)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return None if found is None else Image.objects.filter(pk=found).first()


def _keeps_every_promise(existing: Image, options: UploadOptions) -> bool:
    """Whether returning ``existing`` gives the client everything this request asked for.

    Title and description the client did not send promise nothing; everything else has a
    meaning when absent (no expiration is "never", no album is "none").
    """
    if (existing.expires_at is None) != (options.expires_at is None):
        return False
    if (
        existing.expires_at is not None
        and options.expires_at is not None
        and abs(existing.expires_at - options.expires_at) > _SAME_DEADLINE
    ):
        return False
    if existing.album_id != options.album_id or existing.category_id != options.category_id:
        return False
    if existing.nsfw != options.nsfw:
        return False
    if options.title is not None and existing.title != options.title:
        return False
    if options.description is not None and existing.description != options.description:
        return False
    if options.width is not None and existing.width != options.width:
        return False
    existing_tags = {name.lower() for name in existing.tags.values_list("name", flat=True)}
    return existing_tags == {tag.lower() for tag in options.tags}


def _answer_duplicate(
    *,
    source: SourceFile,
    user: User | None,
    ip: str | None,
    options: UploadOptions,
    checked: _Checked,
) -> UploadResult | None:
    """The existing upload, when policy says to return it and it keeps every promise.

    Runs before the probe: a file this user already stored is not decoded again; its
    stored row answers the format question.
    """
    site = checked.site
    if site.duplicate_policy == SiteSettings.DuplicatePolicy.ALLOW:
        return None
    existing = _existing_duplicate(user=user, md5=source.md5)
    if existing is None:
        return None
    policy.check_format(site=site, extension=_stored_extension(existing))
    if site.duplicate_policy == SiteSettings.DuplicatePolicy.REFUSE:
        raise UploadError("Duplicated upload", code=CODE_DUPLICATE, status=409)
    if not _keeps_every_promise(existing, options):
        return None
    policy.upload_attempt_record(user=user, ip=ip)
    return UploadResult(
        image=existing, created=False, delete_token=image_delete_token_issue(image=existing)
    )


def _stored_extension(image: Image) -> str:
    return os.path.splitext(image.path)[1].lstrip(".").lower()


# -- the pipeline --------------------------------------------------------------------------


def _check_request(
    *, source: SourceFile, user: User | None, ip: str | None, options: UploadOptions
) -> _Checked:
    """Every rule that needs no decoding, in the order a client would want to hear them."""
    site = SiteSettings.load()
    policy.check_uploader(site=site, user=user)
    policy.check_origin(site=site, user=user, origin=source.origin)
    if not options.admin_import:
        policy.check_flood(site=site, user=user, ip=ip)
    policy.check_file_date(user=user, use_file_date=options.use_file_date)
    policy.check_expirable(site=site, expiring=options.expires_at is not None)
    album = policy.album_for_upload(user=user, album_id=options.album_id)
    category = policy.category_for_upload(category_id=options.category_id)
    policy.check_size(user=user, size=source.size)
    return _Checked(site=site, now=timezone.now(), album=album, category=category)


def _probe_accepted(source: SourceFile, site: SiteSettings) -> probe.Probe:
    info = _probe(source.path)
    try:
        processing.verify_decodable(
            source.path, source_format=info.format, pixels=info.width * info.height
        )
    except processing.ProcessingError as exc:
        raise UploadError(
            "Invalid image: " + _without_paths(str(exc), source.path), code=CODE_INVALID
        ) from None
    policy.check_format(site=site, extension=info.extension)
    return info


def _new_row(
    *,
    source: SourceFile,
    prepared: _Prepared,
    original: probe.Probe,
    user: User | None,
    ip: str | None,
    options: UploadOptions,
    checked: _Checked,
) -> Image:
    site, final = checked.site, prepared.probe
    created_at = checked.now
    if options.use_file_date and final.date_taken is not None:
        taken = final.date_taken
        created_at = timezone.make_aware(taken) if timezone.is_naive(taken) else taken
    moderated = site.moderation == SiteSettings.Moderation.ALL or (
        site.moderation == SiteSettings.Moderation.GUEST and user is None
    )
    return Image(
        user=user,
        album=checked.album,
        category=checked.category,
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
        title=options.title or original.title or _title_from_name(source.original_name) or "",
        description=options.description or original.description or "",
        nsfw=options.nsfw,
        is_approved=not moderated,
        created_at=created_at,
        expires_at=options.expires_at,
        uploader_ip=ip,
        delete_salt=secrets.token_hex(16),
        **_expected_derivatives(final, site),
    )


def _store_and_record(
    *,
    image: Image,
    source: SourceFile,
    prepared: _Prepared,
    tags: tuple[str, ...],
    checked: _Checked,
) -> str:
    """Store the file under its name, then commit the row; returns the delete token.

    On any failure neither a file nor a row is left behind; a commit whose answer was lost
    is looked up again rather than guessed, and one that landed is a success.
    """
    site = checked.site
    folder = folder_for(checked.now, storage_mode=site.storage_mode)
    force_random = checked.album is not None and checked.album.wants_random_names
    stored: str | None = None
    reserved: int | None = None
    token: str | None = None
    committing = False
    storage = storage_for_new_files()
    image.storage_id = storage_id_of(storage)
    try:
        encoded: str | None = None
        if site.file_naming == SiteSettings.FileNaming.ID and not force_random:
            # The name is the public id, known only once the row exists: reserve the row
            # first (under a name no file can have), then store, then record the name.
            image.path = f"{folder}{random_name(24)}.pending"
            image.chain = 0
            # Should the database go away before a failed upload can delete its reservation,
            # the row left over is nobody's, counted nowhere and already expired: no page
            # shows it, and the expiry purge removes it.
            owner, album, expires_at = image.user, image.album, image.expires_at
            image.user, image.album, image.expires_at = None, None, checked.now
            image.save()
            image.user, image.album, image.expires_at = owner, album, expires_at
            reserved = image.pk
            encoded = encode_id(image.pk)
        names = candidate_names(
            original=source.original_name or "",
            extension=prepared.probe.extension,
            naming=site.file_naming,
            force_random=force_random,
            encoded_id=encoded,
        )
        stored = _store(
            prepared,
            source,
            names=names,
            folder=folder,
            storage=storage,
            mime=image.mime,
            # Only an original's name is often taken ("image.jpg"); an id's or a random one
            # is free but for leftovers or a chance in billions (and then refused).
            first_may_be_taken=not force_random
            and site.file_naming == SiteSettings.FileNaming.ORIGINAL,
        )
        image.path = stored
        image.chain = Image.CHAIN_IMAGE
        token = _derive_delete_token(salt=image.delete_salt)
        image.delete_token_digest = delete_token_digest(token)
        with transaction.atomic():
            image.save()
            # Two names can find one tag ("sea" and "Sea" from a caller that did not merge
            # them): each is linked once.
            made_tags = list({tag.pk: tag for tag in _tags_for(list(tags))}.values())
            if made_tags:
                # A new row has no tags yet: link them without reading its links first.
                Image.tags.through.objects.bulk_create(
                    [Image.tags.through(image_id=image.pk, tag_id=tag.pk) for tag in made_tags]
                )
            image_counts_changed(added=[(image.user_id, image.album_id)])
            transaction.on_commit(lambda: enqueue_derivatives(image.pk))
            committing = True  # what fails from here on is the COMMIT
        _tags_known(image, made_tags)
    except BaseException as exc:
        outcome = _row_committed(exc, committing=committing, image=image, stored=stored)
        if outcome:
            # Only the database's answer to COMMIT was lost: the upload is whole. Its
            # on-commit work was dropped with the answer, so it runs here.
            log.warning("upload %s committed although its commit reported %r", image.pk, exc)
            enqueue_derivatives(image.pk)
            assert token is not None
            return token
        if outcome is None:
            # Unknown: keeping the file risks an orphan (storage_reconcile removes it);
            # deleting it risks a row without its file, a lost upload.
            log.warning("keeping %s: the database could not say if its row committed", stored)
        else:
            if stored is not None:
                _delete_quietly(stored, storage)
            if reserved is not None:
                _unreserve_quietly(reserved)
        if isinstance(exc, OSError | BotoCoreError | ClientError | S3UploadFailedError):
            # The storage refused the write: a clear 507/503, not a server error.
            log.warning("storing an upload failed: %s", exc)
            raise storage_failed(exc) from exc
        raise
    return token


def _tags_known(image: Image, tags: list[Tag]) -> None:
    """Hold a new upload's tags as a prefetch would, so the answer that lists them
    (`image.tags.all()`) costs no query: they are exactly the ones just set."""
    known = image.tags.all()
    known._result_cache = sorted(tags, key=lambda tag: tag.name)  # Tag.Meta.ordering
    known._prefetch_done = True
    image._prefetched_objects_cache = {"tags": known}  # type: ignore[attr-defined]


def _row_committed(
    exc: BaseException, *, committing: bool, image: Image, stored: str | None
) -> bool | None:
    """After a failure: True when the row committed with its stored file all the same, False
    when it did not, None when the database cannot tell (see ``dbcommit.landed``).

    Only a lost connection during the COMMIT leaves the outcome open: a statement that failed
    before it rolled the transaction back.
    """
    if not (committing and stored is not None and isinstance(exc, CONNECTION_ERRORS)):
        return False
    return landed(lambda: Image.objects.filter(pk=image.pk, path=stored).exists())


def _unreserve_quietly(pk: int) -> None:
    # The database may be what failed: the original error is the one to report. A
    # reservation left behind is hidden and already expired: the purge removes it.
    try:
        Image.objects.filter(pk=pk).delete()
    except Exception:
        log.warning("could not delete the reserved upload row %s", pk, exc_info=True)


def image_upload(
    *,
    source: SourceFile,
    user: User | None,
    ip: str | None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | tuple[str, ...] | None = None,
    album_id: int | None = None,
    category_id: int | None = None,
    width: int | None = None,
    nsfw: bool = False,
    expires_at: datetime | None = None,
    use_file_date: bool = False,
    admin_import: bool = False,
) -> UploadResult:
    """Validate, transform, store and record one upload. The caller closes ``source``.

    Every policy check runs here, whatever the caller checked before: permissions (URL
    uploads included, from the source's origin), flood, size, options, format.
    """
    options = UploadOptions(
        title=title,
        description=description,
        tags=tuple(tags or ()),
        album_id=album_id,
        category_id=category_id,
        width=width,
        nsfw=nsfw,
        expires_at=expires_at,
        use_file_date=use_file_date,
        admin_import=admin_import,
    )
    checked = _check_request(source=source, user=user, ip=ip, options=options)
    duplicate = _answer_duplicate(source=source, user=user, ip=ip, options=options, checked=checked)
    if duplicate is not None:
        return duplicate
    info = _probe_accepted(source, checked.site)
    prepared = _prepare(source, info, width=width, keep_exif=checked.site.keep_exif)
    try:
        image = _new_row(
            source=source,
            prepared=prepared,
            original=info,
            user=user,
            ip=ip,
            options=options,
            checked=checked,
        )
        token = _store_and_record(
            image=image, source=source, prepared=prepared, tags=options.tags, checked=checked
        )
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


def _delete_quietly(name: str, storage: DjangoStorage) -> None:
    try:
        storage.delete(name)
    except Exception:
        log.warning("could not delete %s from storage", name, exc_info=True)


def image_delete(*, image: Image) -> None:
    """Delete the row, then every file of it (after commit: a rollback keeps them)."""
    names = [f.name for f in all_files(image)]
    storage: DjangoStorage | None = None
    committing = False
    try:
        with transaction.atomic():
            # Where the files are now, read under the row's lock: a storage migration
            # switching the row waits, then finds it gone and drops its own copies.
            where = list(
                Image.objects.select_for_update()
                .filter(pk=image.pk)
                .values_list("storage_id", flat=True)
            )
            storage = storage_by_id(where[0] if where else image.storage_id)
            deleted, _ = Image.objects.filter(pk=image.pk).delete()
            if deleted:
                image_counts_changed(removed=[(image.user_id, image.album_id)])
            transaction.on_commit(lambda: [_delete_quietly(n, storage) for n in names])
            committing = True
    except CONNECTION_ERRORS:
        # The answer to COMMIT may be what was lost: a row that is gone takes its files along.
        gone = committing and landed(lambda: not Image.objects.filter(pk=image.pk).exists())
        if storage is None or not gone:
            raise
        for name in names:
            _delete_quietly(name, storage)


def image_delete_token_valid(*, image: Image, token: str) -> bool:
    return bool(image.delete_token_digest) and hmac.compare_digest(
        delete_token_digest(token), image.delete_token_digest
    )


def tags_get_or_create(*, names: list[str]) -> list[Tag]:
    """The tags with these names (matched ignoring case), made when missing: for edits."""
    return _tags_for(names)
