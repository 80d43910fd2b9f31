from __future__ import annotations

from django.conf import settings
from django.db import models


class Album(models.Model):
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def wants_random_names(self) -> bool:
        # Predictable file names would let strangers guess the files of a hidden album.
        return self.privacy != self.Privacy.PUBLIC
