"""Likes, follows and the notifications they make."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Like(models.Model):
    """A user likes an image or an album (exactly one of the two)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey(
        "uploads.Image", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    album = models.ForeignKey(
        "albums.Album", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "image"],
                condition=Q(image__isnull=False),
                name="social_like_once_per_image",
            ),
            models.UniqueConstraint(
                fields=["user", "album"],
                condition=Q(album__isnull=False),
                name="social_like_once_per_album",
            ),
            models.CheckConstraint(
                condition=(Q(image__isnull=False) & Q(album__isnull=True))
                | (Q(image__isnull=True) & Q(album__isnull=False)),
                name="social_like_one_target",
            ),
        ]
        indexes = [models.Index(fields=["user", "created_at", "id"], name="social_like_user_c")]

    def __str__(self) -> str:
        target = f"image {self.image_id}" if self.image_id else f"album {self.album_id}"
        return f"{self.user_id} likes {target}"


class Follow(models.Model):
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_set"
    )
    followed = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers_set"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followed"], name="social_follow_once"),
            models.CheckConstraint(
                condition=~Q(follower=models.F("followed")), name="social_follow_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["followed", "created_at", "id"], name="social_follow_followed_c"),
            models.Index(fields=["follower", "created_at", "id"], name="social_follow_follower_c"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followed_id}"


class Notification(models.Model):
    """Someone liked one of my things or followed me."""

    class Kind(models.TextChoices):
        LIKE = "like", "Like"
        FOLLOW = "follow", "Follow"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    image = models.ForeignKey(
        "uploads.Image", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    album = models.ForeignKey(
        "albums.Album", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "created_at", "id"], name="social_notif_recipient_c"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} by {self.actor_id}"
