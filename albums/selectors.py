"""Reads for albums, and the one answer to "may this person see this album?".

The viewer is a small value object built once per request by `viewer_from_request`; every
surface (pages, APIs, file serving) passes it to these selectors and to the image selectors
in `uploads.selectors`, which build on them. Nothing else looks at `album.privacy`.

The rule for an album, for someone who is neither its owner nor staff:
- an album of a banned owner (`is_active` False) is gone;
- public: listed and reachable;
- link-only (`private_but_link`): reachable by its link, never listed;
- password: reachable once unlocked with its password in this session, never listed;
- private ("only me"): neither;
- listings also leave out the albums of a private profile (`is_private`), which stay
  reachable by link like the rest of that profile's things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.crypto import salted_hmac
from django.utils.text import slugify

from albums.models import Album
from chevereto.core.encoding import encode_id

# The session key holding {album id: unlock mark} for the password albums a visitor opened.
UNLOCKS_SESSION_KEY = "albums_unlocked"


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user id (None for a guest), whether staff, and the albums unlocked."""

    user_id: int | None = None
    is_staff: bool = False
    # album id → mark of the password that unlocked it (see `album_unlock_mark`).
    unlocks: Mapping[int, str] = field(default_factory=dict)

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def unlocked_album_ids(self) -> frozenset[int]:
        return frozenset(self.unlocks)

    def owns(self, owner_id: int | None) -> bool:
        return self.user_id is not None and owner_id == self.user_id


# Someone with no account, no session and no unlocks: what a shared cache may store.
GUEST = Viewer()


def viewer_for_user(*, user: Any, unlocks: Mapping[int, str] | None = None) -> Viewer:
    """A viewer for a user object (anonymous, inactive and unsaved users are guests)."""
    unlocks = dict(unlocks or {})
    if user is None or not getattr(user, "is_authenticated", False):
        return Viewer(unlocks=unlocks)
    if not user.is_active:
        # A banned account sees what a guest sees; it cannot log in anyway.
        return Viewer(unlocks=unlocks)
    return Viewer(user_id=user.pk, is_staff=bool(user.is_staff), unlocks=unlocks)


def viewer_from_request(request: Any) -> Viewer:
    """The viewer behind a Django or DRF request: its user and the session's album unlocks."""
    session = getattr(request, "session", None)
    raw = session.get(UNLOCKS_SESSION_KEY, {}) if session is not None else {}
    unlocks: dict[int, str] = {}
    if isinstance(raw, dict):
        for key, mark in raw.items():
            # JSON sessions turn int keys into strings; anything odd is simply not an unlock.
            if str(key).isdigit() and isinstance(mark, str):
                unlocks[int(key)] = mark
    return viewer_for_user(user=getattr(request, "user", None), unlocks=unlocks)


def album_unlock_mark(album: Album) -> str:
    """What a session keeps for an unlocked album: tied to the current password hash, so
    changing the password locks out every session that opened the album before."""
    return salted_hmac("albums.unlock", f"{album.pk}:{album.password_hash}").hexdigest()[:32]


def _is_unlocked(*, viewer: Viewer, album: Album) -> bool:
    mark = viewer.unlocks.get(album.pk)
    return bool(album.password_hash) and mark is not None and mark == album_unlock_mark(album)


def _sees_all_of(*, viewer: Viewer, album: Album) -> bool:
    return viewer.is_staff or viewer.owns(album.owner_id)


def album_visible_to(*, viewer: Viewer, album: Album) -> bool:
    """May this viewer open the album (its page, its contents, its uploads' pages)?"""
    if _sees_all_of(viewer=viewer, album=album):
        return True
    if not album.owner.is_active:
        return False
    if album.privacy in (Album.Privacy.PUBLIC, Album.Privacy.PRIVATE_BUT_LINK):
        return True
    if album.privacy == Album.Privacy.PASSWORD:
        return _is_unlocked(viewer=viewer, album=album)
    return False


def album_needs_password(*, viewer: Viewer, album: Album) -> bool:
    """True when only the album's password stands between this viewer and the album."""
    return (
        album.privacy == Album.Privacy.PASSWORD
        and not _sees_all_of(viewer=viewer, album=album)
        and album.owner.is_active
        and not _is_unlocked(viewer=viewer, album=album)
    )


def album_listed_for(*, viewer: Viewer, album: Album) -> bool:
    """May the album appear in a listing this viewer sees (profile, explore, search)?"""
    if _sees_all_of(viewer=viewer, album=album):
        return True
    owner = album.owner
    # A private profile's albums are not listed for others, like the rest of the profile.
    return album.privacy == Album.Privacy.PUBLIC and owner.is_active and not owner.is_private


def albums_listed_filter(*, viewer: Viewer, prefix: str = "") -> Q:
    """`album_listed_for` as a filter, for albums (prefix "") or rows pointing at one
    (prefix "album__"), so listings of albums and of uploads share one definition."""
    if viewer.is_staff:
        return Q()
    listed = Q(
        **{
            f"{prefix}privacy": Album.Privacy.PUBLIC,
            f"{prefix}owner__is_active": True,
            f"{prefix}owner__is_private": False,
        }
    )
    if viewer.user_id is not None:
        listed |= Q(**{f"{prefix}owner_id": viewer.user_id})
    return listed


def albums_visible_to(*, viewer: Viewer) -> QuerySet[Album]:
    """The albums a listing may show this viewer: public ones, plus their own (staff: all)."""
    return Album.objects.select_related("owner").filter(albums_listed_filter(viewer=viewer))


def album_path(album: Album) -> str:
    """The album's page, Chevereto's `/album/{slug}.{id}` (or `/album/{id}` without a slug)."""
    slug = slugify(album.name)[:100].strip("-")
    encoded = encode_id(album.pk)
    return f"/album/{slug}.{encoded}" if slug else f"/album/{encoded}"


# --- Trees and lists of albums ---------------------------------------------------------------


def album_depth(*, album: Album) -> int:
    """Levels above the album (0 for a top-level album): one small query per level, at most
    `Album.MAX_DEPTH` of them since the services never let a tree grow deeper."""
    depth = 0
    parent_id = album.parent_id
    while parent_id is not None and depth <= Album.MAX_DEPTH + 1:
        depth += 1
        parent_id = Album.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return depth


def album_descendant_ids(*, album: Album) -> list[list[int]]:
    """The album's sub-albums level by level (`[[children], [grandchildren], ...]`), one
    query per level; empty for an album without sub-albums."""
    levels: list[list[int]] = []
    frontier = [album.pk]
    seen = {album.pk}
    # The bound guards against a cycle that got into the table some other way.
    while frontier and len(levels) <= Album.MAX_DEPTH + 1:
        below = [
            pk
            for pk in Album.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            if pk not in seen
        ]
        if not below:
            break
        seen.update(below)
        levels.append(below)
        frontier = below
    return levels


def albums_of_owner(*, owner_id: int) -> QuerySet[Album]:
    """An owner's albums, ready for `album_representation` (owner and cover joined)."""
    return Album.objects.filter(owner_id=owner_id).select_related("owner", "cover")


def album_children_visible_to(*, viewer: Viewer, album: Album) -> QuerySet[Album]:
    """The sub-albums an album's page lists for this viewer: none unless the album itself
    opens for them, then the listed ones. A sub-album is a separate album: opening its
    parent (a password, a link) never opens a password or link-only child."""
    if not album_visible_to(viewer=viewer, album=album):
        return Album.objects.none()
    return (
        Album.objects.filter(parent_id=album.pk)
        .filter(albums_listed_filter(viewer=viewer))
        .select_related("owner", "cover")
    )
