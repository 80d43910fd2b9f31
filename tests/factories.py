"""Rows for tests, made the way the services leave them (counters included)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test import Client

from accounts.models import User
from albums.models import Album
from uploads.counters import album_counts_changed, image_counts_changed
from uploads.models import Image
from uploads.sources import Origin, SourceFile


def source_file(path: Path, data: bytes, *, name: str, origin: str = Origin.FILE) -> SourceFile:
    """`data` written to `path`, as an upload handler would hand it to the service."""
    path.write_bytes(data)
    return SourceFile(
        path=str(path),
        size=len(data),
        md5=hashlib.md5(data).hexdigest(),
        original_name=name,
        origin=origin,
    )


def make_user(username: str, *, password: str = "pw-123456!", **fields: object) -> User:
    return User.objects.create_user(
        username=username, email=f"{username}@example.com", password=password, **fields
    )


def make_album(
    *,
    owner: User,
    name: str = "Holidays",
    privacy: str = Album.Privacy.PUBLIC,
    password: str = "",
    parent: Album | None = None,
    description: str = "",
) -> Album:
    with transaction.atomic():
        album = Album.objects.create(
            owner=owner,
            name=name,
            privacy=privacy,
            password_hash=make_password(password) if password else "",
            parent=parent,
            description=description,
        )
        album_counts_changed(owner_id=owner.pk, delta=1)
    return album


def make_image(
    *,
    owner: User | None,
    album: Album | None = None,
    title: str = "Harbour at dawn",
    expires_at: datetime | None = None,
    created_at: datetime | None = None,
    **fields: object,
) -> Image:
    """An upload with its original, thumb and medium files in storage (see make_upload)."""
    # Imported here: the visibility tests own the file-making helper.
    from tests.uploads.test_visibility import make_upload

    with transaction.atomic():
        image = make_upload(owner=owner, album=album, expires_at=expires_at, title=title).image
        if created_at is not None or fields:
            for name, value in {"created_at": created_at, **fields}.items():
                if value is not None:
                    setattr(image, name, value)
            image.save()
        image_counts_changed(added=[(image.user_id, image.album_id)])
    return image


def client_as(user: User | None) -> Client:
    """A test client logged in as `user` (a guest's for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
