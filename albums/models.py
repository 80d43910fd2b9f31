from __future__ import annotations

from django.conf import settings
from django.db import models


class Album(models.Model):
    # Levels of nesting below a top-level album: deep enough for any real archive, shallow
    # enough that walking up a chain of parents is a handful of queries at most.
    MAX_DEPTH = 10

    class Privacy(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE_BUT_LINK = "private_but_link", "Anyone with the link"
        PRIVATE = "private", "Only me"
        PASSWORD = "password", "Password protected"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(max_length=2000, blank=True, default="")
    privacy = models.CharField(max_length=20, choices=Privacy.choices, default=Privacy.PUBLIC)
    password_hash = models.CharField(max_length=128, blank=True, default="")
    # Nesting: a tree under each owner, no cycles and at most MAX_DEPTH levels (the album
    # services keep both). Deleting an album deletes its sub-albums through the services.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    cover = models.ForeignKey(
        "uploads.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Counters that listings show, kept by the services with atomic `F()` updates.
    image_count = models.PositiveIntegerField(default=0)
    likes = models.PositiveBigIntegerField(default=0)
    views = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # Keyset pagination of an owner's albums: (created_at, id) in one index.
            models.Index(fields=["owner", "created_at", "id"], name="albums_owner_created_id"),
            models.Index(fields=["privacy", "created_at", "id"], name="albums_privacy_created_id"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def wants_random_names(self) -> bool:
        # Predictable file names would let strangers guess the files of a hidden album.
        return self.privacy != self.Privacy.PUBLIC
