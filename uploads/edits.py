"""Edits of uploads after ingest: one upload's fields, the same edit over many uploads, and
deleting many uploads, each reported id by id.

The values go through the parsers of `uploads.params`, so an edit refuses what an upload
refuses (a 101-character title, 31 tags, an expiration past a year). Errors are
`UploadError`s carrying Chevereto's code and the HTTP status, as everywhere in uploads.
Moving an upload between albums goes through `uploads.album_services.images_move`, which
keeps the counters, the covers and the random file names of hidden albums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from albums.models import Album
from chevereto.core.encoding import InvalidEncodedId, decode_id
from chevereto.core.models import SiteSettings
from uploads import params
from uploads.album_services import images_move
from uploads.errors import CODE_FORBIDDEN, CODE_INVALID, UploadError
from uploads.models import Category, Image
from uploads.policy import check_expirable, invalid_album
from uploads.selectors import images_of_actor_by_encoded_id
from uploads.services import image_delete, tags_get_or_create


class _Unset:
    """A field the client did not send (None means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

# The fields an edit may carry, as the APIs name them (`nsfw` is V1's name of `is_nsfw`).
EDIT_FIELDS = frozenset(
    {
        "title",
        "description",
        "tags",
        "category_id",
        "album_id",
        "is_nsfw",
        "nsfw",
        "expiration",
        "is_approved",
    }
)


def _invalid(message: str) -> UploadError:
    return UploadError(message, code=CODE_INVALID, status=400)


def _forbidden(message: str) -> UploadError:
    return UploadError(message, code=CODE_FORBIDDEN, status=403)


@dataclass(frozen=True)
class ImageChanges:
    """An edit, validated once: what to set on each upload it is applied to."""

    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] | None = None  # None: leave the tags alone
    album: Album | _Unset | None = UNSET

    @property
    def is_empty(self) -> bool:
        return not self.fields and self.tags is None and self.album is UNSET


def _text(value: Any, *, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _invalid(f"Invalid {name}: text expected")


def _flag(value: Any, *, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip():
        return params.parse_flag(value, name=name)
    raise _invalid(f"Invalid {name} value: use 0 or 1")


def _tag_names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise _invalid("Invalid tags: a comma-separated string or a list of strings")
        if any("," in item for item in value):
            raise _invalid("Invalid tags: a tag cannot hold a comma")
        value = ",".join(value)
    if not isinstance(value, str):
        raise _invalid("Invalid tags: a comma-separated string or a list of strings")
    return params.parse_tags(value)


def _category_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _invalid("Invalid category_id")
    return params.parse_int_id(value, name="category_id")


def _expires_at(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _invalid("Invalid expiration: use an ISO-8601 duration like PT5M or seconds")
    return params.parse_expiration(value, now=timezone.now())


def _category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        # A well-formed reference to nothing: the 404 of any missing thing.
        raise UploadError("Category not found", code=404, status=404)
    return category


def album_by_encoded_id(value: Any) -> Album | None:
    """The album an edit names (`null` or "" for none); an id that is malformed or names no
    album is refused like someone else's album, so ids reveal nothing."""
    if value is None or value == "" or value == "none":
        return None
    if not isinstance(value, str):
        raise _invalid("Invalid album_id: an encoded album id expected")
    try:
        pk = decode_id(value.strip())
    except InvalidEncodedId:
        raise invalid_album() from None
    album = Album.objects.filter(pk=pk).first()
    if album is None:
        raise invalid_album()
    return album


def image_changes(
    *,
    actor: User,
    title: Any = UNSET,
    description: Any = UNSET,
    tags: Any = UNSET,
    category_id: Any = UNSET,
    album: Album | _Unset | None = UNSET,
    nsfw: Any = UNSET,
    expires_at: Any = UNSET,
    is_approved: Any = UNSET,
) -> ImageChanges:
    """Validate an edit once, before it touches any upload (a bad value refuses the whole
    request with a 400; moderation by a non-staff actor with a 403)."""
    fields: dict[str, Any] = {}
    if title is not UNSET:
        fields["title"] = params.parse_title(_text(title, name="title")) or ""
    if description is not UNSET:
        text = _text(description, name="description")
        fields["description"] = params.parse_description(text) or ""
    if category_id is not UNSET:
        fields["category"] = _category(_category_id(category_id))
    if nsfw is not UNSET:
        fields["nsfw"] = _flag(nsfw, name="nsfw")
    if expires_at is not UNSET:
        if isinstance(expires_at, str | int):
            # What a client sends: an ISO-8601 duration or seconds, as at upload.
            expires_at = _expires_at(expires_at)
        if expires_at is not None and not isinstance(expires_at, datetime):
            raise _invalid("Invalid expiration")
        check_expirable(site=SiteSettings.load(), expiring=expires_at is not None)
        fields["expires_at"] = expires_at
    if is_approved is not UNSET:
        if not actor.is_staff:
            raise _forbidden("Only staff may approve or unapprove uploads")
        fields["is_approved"] = _flag(is_approved, name="is_approved")
    if album is not UNSET and album is not None and not isinstance(album, Album):
        raise _invalid("Invalid album")
    return ImageChanges(
        fields=fields, tags=None if tags is UNSET else _tag_names(tags), album=album
    )


def image_changes_from(data: Mapping[str, Any], *, actor: User) -> ImageChanges:
    """An edit as an API body sends it (JSON or form): `title`, `description`, `tags`,
    `category_id`, `album_id` (null or "" for none), `is_nsfw` (or `nsfw`), `expiration`
    (ISO-8601 duration or seconds, "0" or null for never), `is_approved` (staff)."""
    got: dict[str, Any] = {}
    for name in ("title", "description", "tags", "category_id", "is_approved"):
        if name in data:
            got[name] = data[name]
    for name in ("is_nsfw", "nsfw"):
        if name in data:
            got["nsfw"] = data[name]
    if "album_id" in data:
        got["album"] = album_by_encoded_id(data["album_id"])
    if "expiration" in data:
        got["expires_at"] = _expires_at(data["expiration"])
    return image_changes(actor=actor, **got)


def _check_may_edit(*, image: Image, actor: User) -> None:
    if not (actor.is_staff or (image.user_id is not None and image.user_id == actor.pk)):
        raise _forbidden("This upload is not yours")


def _apply(*, image: Image, changes: ImageChanges) -> Image:
    album = changes.album
    if isinstance(album, Album) and (image.user_id is None or album.owner_id != image.user_id):
        # An upload goes only into its uploader's albums, whoever edits it (staff included).
        raise invalid_album()
    with transaction.atomic():
        if changes.fields:
            for name, value in changes.fields.items():
                setattr(image, name, value)
            update = [f"{name}_id" if name == "category" else name for name in changes.fields]
            Image.objects.filter(pk=image.pk).update(
                **{name: getattr(image, name) for name in update}
            )
        if changes.tags is not None:
            image.tags.set(tags_get_or_create(names=changes.tags))
        if album is not UNSET:
            images_move(images=[image], album=album)
    return image


def image_edit(
    *,
    image: Image,
    actor: User,
    title: Any = UNSET,
    description: Any = UNSET,
    tags: Any = UNSET,
    category_id: Any = UNSET,
    album: Album | _Unset | None = UNSET,
    nsfw: Any = UNSET,
    expires_at: Any = UNSET,
    is_approved: Any = UNSET,
) -> Image:
    """Change the fields given (the others stay); returns the upload, updated."""
    _check_may_edit(image=image, actor=actor)
    changes = image_changes(
        actor=actor,
        title=title,
        description=description,
        tags=tags,
        category_id=category_id,
        album=album,
        nsfw=nsfw,
        expires_at=expires_at,
        is_approved=is_approved,
    )
    return _apply(image=image, changes=changes)


def image_edit_apply(*, image: Image, actor: User, changes: ImageChanges) -> Image:
    """Apply an edit already validated by `image_changes` / `image_changes_from`."""
    _check_may_edit(image=image, actor=actor)
    return _apply(image=image, changes=changes)


# --- Many at once --------------------------------------------------------------------------

NOT_FOUND = "Image not found."


@dataclass
class BulkReport:
    """What a bulk operation did, id by id: the uploads it changed (primary keys) and, for
    the others, the id as sent with the reason."""

    edited: list[int] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def images_bulk_edit(*, actor: User, encoded_ids: list[str], changes: ImageChanges) -> BulkReport:
    """Apply one validated edit to each upload named; ids that are malformed, missing or
    someone else's (for non-staff) fail with the same "not found", and an upload the edit
    cannot apply to (an album of another owner) fails with its reason. Each upload is its
    own transaction: one failure does not undo the others."""
    report = BulkReport()
    found = images_of_actor_by_encoded_id(actor=actor, encoded_ids=encoded_ids)
    for encoded in encoded_ids:
        image = found.get(encoded)
        if image is None:
            report.failed.append((encoded, NOT_FOUND))
            continue
        try:
            image_edit_apply(image=image, actor=actor, changes=changes)
        except UploadError as exc:
            report.failed.append((encoded, exc.message))
            continue
        report.edited.append(image.pk)
    return report


def images_bulk_delete(*, actor: User, encoded_ids: list[str]) -> BulkReport:
    """Delete each upload named (rows now, files after each commit)."""
    report = BulkReport()
    found = images_of_actor_by_encoded_id(actor=actor, encoded_ids=encoded_ids)
    for encoded in encoded_ids:
        image = found.get(encoded)
        if image is None:
            report.failed.append((encoded, NOT_FOUND))
            continue
        image_delete(image=image)
        report.edited.append(image.pk)
    return report
