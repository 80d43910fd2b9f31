"""Reads for uploads, and the one answer to "may this person see this upload?".

Every page, API, listing and file URL asks the visibility selectors below with a `Viewer`
(`albums.selectors.viewer_from_request`); nothing else re-derives the rule:
- an expired upload is gone for everyone, its owner included (the purge deletes it soon);
- its owner and staff see everything else, on every surface;
- anyone else never sees an upload awaiting moderation (`is_approved` False) or of a banned
  owner (`is_active` False), on any surface, files included;
- pages and APIs (`image_visible_to`) also follow the album: uploads in private albums are
  hidden, in link-only albums reachable by link, in password albums reachable once the album
  is unlocked; listings (`images_visible_to`) show only uploads outside albums or in public
  albums;
- listings also follow the uploader's profile (`accounts.selectors.user_profile_visible_to`):
  the uploads of a private profile are listed for nobody but its owner and staff; a link to
  one of them still opens (a private profile hides the person, not the links they shared);
- files (`image_file_visible_to`) of uploads in private, link-only and password albums stay
  reachable at their random names: they are capability links the owner may embed elsewhere;
- the delete link is a capability too (`image_for_delete_link`): whoever holds the token is
  the uploader, so it works for any upload that has not expired, moderated or not.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.selectors import user_profile_visible_to
from albums.models import Album
from albums.selectors import (
    Viewer,
    album_listed_for,
    album_needs_password,
    album_visible_to,
    albums_listed_filter,
)
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from uploads.files import StoredFile, parse_derivative, variant_file
from uploads.models import Image


def images_live() -> QuerySet[Image]:
    """Uploads that have not expired: an expired upload is gone at once, purged or not."""
    return Image.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


def image_get_by_encoded_id(encoded: str) -> Image | None:
    try:
        pk = decode_id(encoded)
    except InvalidEncodedId:
        return None
    # The visibility selectors read the uploader, the album and its owner: one query.
    return images_live().select_related("user", "album__owner").filter(pk=pk).first()


def _is_expired(image: Image) -> bool:
    return image.expires_at is not None and image.expires_at <= timezone.now()


def _sees_all_of(*, viewer: Viewer, image: Image) -> bool:
    return viewer.is_staff or viewer.owns(image.user_id)


def _open_to_others(image: Image) -> bool:
    """Approved, and not of a banned owner: the part of the rule that holds on every surface."""
    return image.is_approved and (image.user is None or image.user.is_active)


def images_visible_to(*, viewer: Viewer) -> QuerySet[Image]:
    """The uploads a listing may show this viewer (home, explore, profiles, search, feeds).

    Others get approved uploads of active (or guest) uploaders, outside albums or in albums
    that are listed; the owner also gets all of theirs, staff everything that is live.
    """
    live = images_live()
    if viewer.is_staff:
        return live
    listed = (
        Q(is_approved=True)
        & (Q(user__isnull=True) | Q(user__is_active=True))
        # A private profile's uploads are listed for its owner (added below) and staff only:
        # `user_profile_visible_to` as a filter (activity is checked just above).
        & (Q(user__isnull=True) | Q(user__is_private=False))
        & (Q(album__isnull=True) | albums_listed_filter(viewer=viewer, prefix="album__"))
    )
    if viewer.user_id is not None:
        listed |= Q(user_id=viewer.user_id)
    return live.filter(listed)


def album_images_visible_to(*, viewer: Viewer, album: Album) -> QuerySet[Image]:
    """The uploads of an album's page for this viewer: none unless the album opens for them;
    then the album's uploads minus those hidden from them (moderated ones, for others)."""
    if not album_visible_to(viewer=viewer, album=album):
        return Image.objects.none()
    live = images_live().filter(album=album)
    if viewer.is_staff or viewer.owns(album.owner_id):
        return live
    shown = Q(is_approved=True) & (Q(user__isnull=True) | Q(user__is_active=True))
    if viewer.user_id is not None:
        shown |= Q(user_id=viewer.user_id)
    return live.filter(shown)


def _shown(*, viewer: Viewer, image: Image, album_allows: Callable[..., bool]) -> bool:
    """The rule for one upload; `album_allows` says what its album demands (open or listed)."""
    if _is_expired(image):
        return False
    if _sees_all_of(viewer=viewer, image=image):
        return True
    if not _open_to_others(image):
        return False
    return image.album is None or album_allows(viewer=viewer, album=image.album)


def image_visible_to(*, viewer: Viewer, image: Image) -> bool:
    """May this viewer open the upload's page, short URL, API resource or oEmbed?"""
    return _shown(viewer=viewer, image=image, album_allows=album_visible_to)


def image_locked_album(*, viewer: Viewer, image: Image) -> Album | None:
    """The password album whose password alone would open this upload to this viewer."""
    if _is_expired(image) or _sees_all_of(viewer=viewer, image=image):
        return None
    if not _open_to_others(image) or image.album is None:
        return None
    return image.album if album_needs_password(viewer=viewer, album=image.album) else None


def image_listed_for(*, viewer: Viewer, image: Image) -> bool:
    """Whether `images_visible_to(viewer=viewer)` holds this upload, without a query."""
    if not _shown(viewer=viewer, image=image, album_allows=album_listed_for):
        return False
    return image.user is None or user_profile_visible_to(
        viewer_user_id=viewer.user_id, viewer_is_staff=viewer.is_staff, user=image.user
    )


def image_file_visible_to(*, viewer: Viewer, image: Image) -> bool:
    """May this viewer fetch the upload's files (original and every derivative)?

    Unlike pages, the album does not matter: files of non-public albums have random,
    unguessable names and are capability links. Moderation, bans and expiry still hide them.
    """
    if _is_expired(image):
        return False
    return _sees_all_of(viewer=viewer, image=image) or _open_to_others(image)


def album_cover_for(*, viewer: Viewer, album: Album) -> Image | None:
    """The album's cover as a card or an API answer may show it to this viewer: only when
    the viewer may fetch the cover's files, so a public album never shows others a cover
    awaiting moderation, and nobody an expired one.

    Reads `album.cover` and `album.owner` (listings join both); the cover is the owner's
    upload in practice, so its uploader is taken from the joined owner, not a query."""
    cover = album.cover
    if cover is None:
        return None
    if cover.user_id == album.owner_id:
        Image.user.field.set_cached_value(cover, album.owner)
    return cover if image_file_visible_to(viewer=viewer, image=cover) else None


def image_for_delete_link(*, encoded: str) -> Image | None:
    """The upload a delete link points at, whatever its visibility: the 48-hex token (checked
    by the caller with `uploads.services.image_delete_token_valid`) is the uploader's
    capability, so moderation, bans and album privacy do not stand in its way; only expiry
    does (an expired upload is already gone)."""
    return image_get_by_encoded_id(encoded)


def image_slug(image: Image) -> str:
    return slugify(image.title)[:100].strip("-")


def image_viewer_path(image: Image) -> str:
    kind = "video" if image.is_video else "image"
    slug = image_slug(image)
    encoded = encode_id(image.pk)
    return f"/{kind}/{slug}.{encoded}" if slug else f"/{kind}/{encoded}"


def image_short_path(image: Image) -> str:
    return f"/{'video' if image.is_video else 'image'}/{encode_id(image.pk)}"


def image_for_storage_name(name: str) -> tuple[Image, StoredFile] | None:
    """The live upload and variant behind a storage name (`images/2024/01/02/cat.th.jpg`)."""
    live = images_live().select_related("user", "album__owner")
    image = live.filter(path=name).first()
    if image is not None:
        return image, StoredFile("image", image.path, image.mime)
    folder, _, filename = name.rpartition("/")
    parsed = parse_derivative(filename)
    if parsed is None:
        return None
    stem, variant = parsed
    prefix = f"{folder}/{stem}." if folder else f"{stem}."
    for candidate in live.filter(path__startswith=prefix):
        if "." in candidate.path[len(prefix) :]:
            continue  # a longer stem that merely starts the same way
        stored = variant_file(candidate, variant)
        if stored is not None and stored.name == name:
            return candidate, stored
    return None


# --- The caller's own uploads (API V4 user routes) ----------------------------------------


def images_of_actor(*, actor: User) -> QuerySet[Image]:
    """The live uploads a user may manage on the user routes: their own, or any for staff.

    Someone else's upload is simply not in it, so it answers exactly like a missing one."""
    live = images_live()
    return live if actor.is_staff else live.filter(user_id=actor.pk)


def images_owned_by(*, owner: User) -> QuerySet[Image]:
    """A user's own live uploads (their list, staff included: theirs only)."""
    return images_live().filter(user_id=owner.pk)


def image_of_actor(*, actor: User, encoded: str) -> Image | None:
    """One upload of `images_of_actor` by encoded id (None: missing, expired or not theirs)."""
    try:
        pk = decode_id(encoded)
    except InvalidEncodedId:
        return None
    return images_of_actor(actor=actor).select_related("user").filter(pk=pk).first()


def images_of_actor_by_encoded_id(*, actor: User, encoded_ids: list[str]) -> dict[str, Image]:
    """The uploads of `images_of_actor` among `encoded_ids`, keyed by the id as sent; ids
    that are malformed, missing or someone else's are simply absent. One query."""
    wanted: dict[int, str] = {}
    for encoded in encoded_ids:
        try:
            wanted[decode_id(encoded)] = encoded
        except InvalidEncodedId:
            continue
    if not wanted:
        return {}
    rows = images_of_actor(actor=actor).select_related("user").filter(pk__in=list(wanted))
    return {wanted[image.pk]: image for image in rows}


def image_tag_names(*, image_ids: list[int]) -> dict[int, list[str]]:
    """Tag names of these uploads, by upload, in one query (in name order)."""
    through = Image.tags.through
    names: dict[int, list[str]] = {}
    rows = (
        through.objects.filter(image_id__in=image_ids)
        .order_by("tag__name")
        .values_list("image_id", "tag__name")
    )
    for image_id, name in rows:
        names.setdefault(image_id, []).append(name)
    return names
