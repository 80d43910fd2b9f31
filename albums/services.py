"""Writes for albums: the album password and unlocking a password album for a session."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.backends.base import SessionBase

from albums.models import Album
from albums.selectors import UNLOCKS_SESSION_KEY, album_unlock_mark


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
