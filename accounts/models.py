from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# First path segments the site itself uses: a user with one of these names would have a
# profile URL (/{username}) shadowed by a site page.
RESERVED_USERNAMES = frozenset(
    {
        "admin", "album", "albums", "api", "api-v1", "category", "clip", "dashboard",
        "delete", "explore", "image", "images", "json", "login", "logout", "me", "page",
        "plugin", "search", "settings", "signup", "static", "tag", "upload", "user",
        "users", "video", "videos", "account", "following", "followers", "notifications",
        "profiles", "oembed", "like", "follow", "categories",
    }
)  # fmt: skip


def validate_username_not_reserved(value: str) -> None:
    if value.lower() in RESERVED_USERNAMES:
        raise ValidationError("This username is reserved.")


username_validator = RegexValidator(
    r"^[A-Za-z0-9_]{3,16}$", "3 to 16 characters: letters, digits and underscores."
)


class User(AbstractUser):
    username = models.CharField(
        max_length=16,
        unique=True,
        validators=[username_validator, validate_username_not_reserved],
        help_text="3 to 16 characters: letters, digits and underscores.",
        error_messages={"unique": "A user with that username already exists."},
    )
    name = models.CharField(max_length=60, blank=True, default="")
    bio = models.TextField(max_length=500, blank=True, default="")
    website = models.URLField(blank=True, default="")
    is_private = models.BooleanField(default=False)
    # Profile images: storage names of files made through the upload pipeline's checks.
    avatar = models.CharField(max_length=255, blank=True, default="")
    background = models.CharField(max_length=255, blank=True, default="")
    show_nsfw = models.BooleanField(default=False)
    # An IANA zone name ("Europe/Madrid"); empty means the site's zone.
    timezone = models.CharField(max_length=64, blank=True, default="")
    # Counters that listings show, kept by the services with atomic `F()` updates.
    image_count = models.PositiveIntegerField(default=0)
    album_count = models.PositiveIntegerField(default=0)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new password revokes the user's API keys, whatever set it: /settings, a reset
        link, the API, the dashboard, `changepassword`. (Sessions need nothing here: each
        carries a hash of the password, so every other session ends by itself, and the
        pages where a user changes their own password keep that session.)

        `set_password()` keeps the new password in `_password` until this save. The hash
        upgrade of a login (an imported Chevereto hash rewritten by check_password) clears
        it before saving: the password is the same, and no key is revoked."""
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            ApiKey.objects.filter(user=self, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )


class ApiKey(models.Model):
    """A user's API key. Only a SHA-256 digest is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    digest = models.CharField(max_length=64)
    # The public, non-secret start of the key ("chv_Xy_1a2b"), so a user can tell keys apart.
    prefix = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One live key per user, as on Chevereto's /settings/api.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="accounts_apikey_one_active_per_user",
            )
        ]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
