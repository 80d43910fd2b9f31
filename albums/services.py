"""Writes for albums: making, renaming and moving albums in their owner's tree, the album
password and unlocking a password album for a session.

What also touches uploads (editing privacy and cover, deleting with the uploads) lives one
layer up, in `uploads.album_services`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from accounts.models import User
from albums.models import Album
from albums.selectors import (
    UNLOCKS_SESSION_KEY,
    album_depth,
    album_descendant_ids,
    album_unlock_mark,
)

NAME_MAX = 100
DESCRIPTION_MAX = 2000
PASSWORD_MAX = 128


class AlbumError(ValueError):
    """An album change that breaks a rule; the message says which, for the client."""


def album_set_password(*, album: Album, password: str) -> Album:
    """Store a slow hash of the album password (never the password itself).

    Setting a new password changes the unlock mark, so sessions that opened the album with
    the old one are locked out again.
    """
    if not password:
        raise ValueError("An album password cannot be empty")
    album.password_hash = make_password(password)
    album.save(update_fields=["password_hash", "updated_at"])
    return album


def album_unlock(*, session: SessionBase, album: Album, password: str) -> bool:
    """Check the password; when right, remember the album as unlocked in this session."""
    # An album without a stored hash cannot be opened by any password: it fails closed.
    if album.privacy != Album.Privacy.PASSWORD or not album.password_hash:
        return False
    if not check_password(password, album.password_hash):
        return False
    unlocks = dict(session.get(UNLOCKS_SESSION_KEY, {}) or {})
    unlocks[str(album.pk)] = album_unlock_mark(album)
    session[UNLOCKS_SESSION_KEY] = unlocks
    return True


# --- Validation shared by every album write ---------------------------------------------------


def album_clean_name(name: Any) -> str:
    if not isinstance(name, str):
        raise AlbumError("The album name must be text.")
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise AlbumError(f"The album name needs 1 to {NAME_MAX} characters.")
    return name


def album_clean_description(description: Any) -> str:
    if not isinstance(description, str):
        raise AlbumError("The album description must be text.")
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise AlbumError(f"The album description has at most {DESCRIPTION_MAX} characters.")
    return description


def album_clean_privacy(privacy: Any) -> str:
    if privacy not in Album.Privacy.values:
        raise AlbumError(f"Privacy is one of {', '.join(Album.Privacy.values)}.")
    return str(privacy)


def album_hash_password(password: Any) -> str:
    """The stored form of an album password (the hashing `album_set_password` uses)."""
    if not isinstance(password, str) or not password:
        raise AlbumError("A password album needs a password.")
    if len(password) > PASSWORD_MAX:
        raise AlbumError(f"The album password has at most {PASSWORD_MAX} characters.")
    return make_password(password)


def album_lock_tree(*, owner_id: int) -> None:
    """Serialise changes to one owner's album tree until the transaction ends.

    A write to the owner's row takes a row lock (PostgreSQL) or the write lock (SQLite)
    before the tree is read, so two moves at once cannot each pass the cycle check and
    together make a cycle.
    """
    User.objects.filter(pk=owner_id).update(album_count=F("album_count"))


def _check_parent(*, owner_id: int, parent: Album | None) -> None:
    if parent is not None and parent.owner_id != owner_id:
        raise AlbumError("The parent album must be one of the same owner's albums.")


# --- Albums ------------------------------------------------------------------------------------


def album_create(
    *,
    owner: User,
    name: Any,
    description: Any = "",
    privacy: Any = Album.Privacy.PUBLIC,
    password: Any = "",
    parent: Album | None = None,
) -> Album:
    """A new album of `owner`, at the top level or under `parent` (one of theirs)."""
    name = album_clean_name(name)
    description = album_clean_description(description)
    privacy = album_clean_privacy(privacy)
    if privacy == Album.Privacy.PASSWORD:
        password_hash = album_hash_password(password)
    elif password:
        raise AlbumError("Only a password album takes a password.")
    else:
        password_hash = ""
    _check_parent(owner_id=owner.pk, parent=parent)
    with transaction.atomic():
        album_lock_tree(owner_id=owner.pk)
        if parent is not None:
            if not Album.objects.filter(pk=parent.pk, owner_id=owner.pk).exists():
                raise AlbumError("The parent album does not exist.")
            if album_depth(album=parent) + 1 > Album.MAX_DEPTH:
                raise AlbumError(f"Albums nest at most {Album.MAX_DEPTH} levels deep.")
        album = Album.objects.create(
            owner=owner,
            name=name,
            description=description,
            privacy=privacy,
            password_hash=password_hash,
            parent=parent,
        )
        # Atomic: concurrent creations each add their one.
        User.objects.filter(pk=owner.pk).update(album_count=F("album_count") + 1)
    return album


def album_move(*, album: Album, parent: Album | None) -> Album:
    """Put `album` (with its sub-albums) under `parent`, or at the top level (None).

    Refused: a parent of another owner, the album itself or one of its own sub-albums (a
    cycle), and a tree deeper than `Album.MAX_DEPTH` once moved.
    """
    _check_parent(owner_id=album.owner_id, parent=parent)
    with transaction.atomic():
        album_lock_tree(owner_id=album.owner_id)
        levels = album_descendant_ids(album=album)
        if parent is not None:
            if parent.pk == album.pk or any(parent.pk in level for level in levels):
                raise AlbumError("An album cannot go inside itself or one of its sub-albums.")
            fresh_parent = Album.objects.filter(pk=parent.pk, owner_id=album.owner_id).first()
            if fresh_parent is None:
                raise AlbumError("The parent album does not exist.")
            # The moved album sits one below the parent, and its deepest sub-album
            # `len(levels)` further down.
            if album_depth(album=fresh_parent) + 1 + len(levels) > Album.MAX_DEPTH:
                raise AlbumError(f"Albums nest at most {Album.MAX_DEPTH} levels deep.")
        album.parent = parent
        album.save(update_fields=["parent", "updated_at"])
    return album


def album_tree_delete(*, album: Album) -> int:
    """Delete the album and its sub-albums, keeping their uploads (they fall out of any
    album, still their owner's); returns how many albums went, taken off the owner's count.

    Deleting the uploads too is `uploads.album_services.album_delete`, which calls this.
    """
    with transaction.atomic():
        album_lock_tree(owner_id=album.owner_id)
        levels = album_descendant_ids(album=album)
        album_ids = [album.pk] + [pk for level in levels for pk in level]
        # The parent FK cascades anyway; naming every id makes the count exact.
        deleted = Album.objects.filter(pk__in=album_ids).delete()[1].get(Album._meta.label, 0)
        if deleted:
            User.objects.filter(pk=album.owner_id).update(
                album_count=Greatest(F("album_count") - deleted, 0)
            )
    return deleted
