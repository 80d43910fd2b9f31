"""Site-wide settings edited from the dashboard."""

from __future__ import annotations

import secrets
import time
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from chevereto.core.formats import FORMAT_CHOICES


def _new_salt() -> str:
    return secrets.token_hex(4)


def _new_padding() -> int:
    return 1000 + secrets.randbelow(9000)


def _new_guest_key() -> str:
    return "chv_guest_" + secrets.token_hex(24)


def validate_formats(value: str) -> None:
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = sorted(set(items) - set(FORMAT_CHOICES))
    if unknown:
        raise ValidationError(
            f"Unknown format(s): {', '.join(unknown)}. Choose from {', '.join(FORMAT_CHOICES)}."
        )
    if not items:
        raise ValidationError("Enable at least one format.")


class SiteSettings(models.Model):
    class FileNaming(models.TextChoices):
        ORIGINAL = "original", "Original file name"
        RANDOM = "random", "Random name"
        MIXED = "mixed", "Original name plus random suffix"
        ID = "id", "Encoded id"

    class StorageMode(models.TextChoices):
        DATEFOLDER = "datefolder", "Date folders (images/YYYY/MM/DD/)"
        DIRECT = "direct", "Direct (images/)"

    class UrlUploads(models.TextChoices):
        OFF = "off", "Nobody"
        ADMINS = "admins", "Admins only"
        USERS = "users", "Registered users"
        EVERYONE = "everyone", "Everyone, guests included"

    class DuplicatePolicy(models.TextChoices):
        RETURN_EXISTING = "return_existing", "Same user, same file: return the existing upload"
        ALLOW = "allow", "Allow duplicates"
        REFUSE = "refuse", "Refuse duplicates from the same user (error 101)"

    class Moderation(models.TextChoices):
        OFF = "off", "Off"
        GUEST = "guest", "Guest uploads"
        ALL = "all", "All uploads"

    site_name = models.CharField(max_length=100, default="Chevereto")
    site_description = models.CharField(max_length=255, blank=True, default="")

    guest_uploads = models.BooleanField(default=True)
    guest_api_key = models.CharField(
        max_length=100,
        default=_new_guest_key,
        validators=[RegexValidator(r"^[A-Za-z0-9_]{16,100}$", "Letters, digits, _; 16+ chars.")],
        help_text="Public key for guest uploads through API V1, shown on /api-v1.",
    )
    user_max_filesize_mb = models.PositiveIntegerField(
        "user max file size (MB)", default=100, validators=[MinValueValidator(1)]
    )
    guest_max_filesize_mb = models.PositiveIntegerField(
        "guest max file size (MB)", default=10, validators=[MinValueValidator(1)]
    )
    enabled_formats = models.CharField(
        max_length=200, default=",".join(FORMAT_CHOICES), validators=[validate_formats]
    )

    thumb_width = models.PositiveIntegerField(
        default=320, validators=[MinValueValidator(16), MaxValueValidator(2000)]
    )
    thumb_height = models.PositiveIntegerField(
        default=320, validators=[MinValueValidator(16), MaxValueValidator(2000)]
    )
    medium_width = models.PositiveIntegerField(
        default=500, validators=[MinValueValidator(100), MaxValueValidator(4000)]
    )

    storage_mode = models.CharField(
        max_length=20, choices=StorageMode.choices, default=StorageMode.DATEFOLDER
    )
    file_naming = models.CharField(
        max_length=20, choices=FileNaming.choices, default=FileNaming.ORIGINAL
    )
    url_uploads = models.CharField(
        "URL uploads", max_length=20, choices=UrlUploads.choices, default=UrlUploads.ADMINS
    )
    expirable_uploads = models.BooleanField(default=True)

    flood_protection = models.BooleanField(default=True)
    flood_per_minute = models.PositiveIntegerField(default=50)
    flood_per_hour = models.PositiveIntegerField(default=500)
    flood_per_day = models.PositiveIntegerField(default=1000)
    flood_per_week = models.PositiveIntegerField(default=5000)
    flood_per_month = models.PositiveIntegerField(default=10000)

    duplicate_policy = models.CharField(
        max_length=20, choices=DuplicatePolicy.choices, default=DuplicatePolicy.RETURN_EXISTING
    )
    keep_exif = models.BooleanField(
        "keep EXIF", default=True, help_text="Off: metadata is stripped from stored originals."
    )
    moderation = models.CharField(max_length=10, choices=Moderation.choices, default=Moderation.OFF)

    id_salt = models.CharField(
        "id salt",
        max_length=64,
        default=_new_salt,
        help_text="Chevereto's crypt_salt. Change only when migrating a Chevereto site.",
    )
    id_padding = models.PositiveIntegerField(
        "id padding",
        default=_new_padding,
        help_text="Chevereto's id_padding. Change only when migrating a Chevereto site.",
    )

    updated_at = models.DateTimeField(auto_now=True)

    # A per-process copy, refreshed every few seconds: settings are read on every upload
    # and every listing, and change rarely.
    _cache: ClassVar[tuple[float, SiteSettings] | None] = None
    CACHE_SECONDS: ClassVar[float] = 5.0

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"

    def __str__(self) -> str:
        return "Site settings"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        SiteSettings.clear_cache()

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError("Site settings cannot be deleted.")

    @classmethod
    def clear_cache(cls) -> None:
        cls._cache = None

    @classmethod
    def load(cls) -> SiteSettings:
        cached = cls._cache
        now = time.monotonic()
        if cached is not None and now - cached[0] < cls.CACHE_SECONDS:
            return cached[1]
        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            try:
                with transaction.atomic():
                    obj = cls.objects.create(pk=1)
            except IntegrityError:
                # Another process created it first; theirs is the one.
                obj = cls.objects.get(pk=1)
        cls._cache = (now, obj)
        return obj

    @property
    def formats(self) -> frozenset[str]:
        return frozenset(item.strip() for item in self.enabled_formats.split(",") if item.strip())

    def flood_limits(self) -> list[tuple[str, int, int]]:
        """(label, window seconds, limit) for each enabled window."""
        windows = [
            ("minute", 60, self.flood_per_minute),
            ("hour", 3600, self.flood_per_hour),
            ("day", 86400, self.flood_per_day),
            ("week", 7 * 86400, self.flood_per_week),
            ("month", 30 * 86400, self.flood_per_month),
        ]
        return [w for w in windows if w[2] > 0]


class AuditEntry(models.Model):
    """One admin action: who did what to which thing, when and from which address.

    Rows are written by `chevereto.core.audit.audit_record` and never edited: the dashboard
    shows them read-only, and the actor's name is copied so the entry outlives the account.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    # Dotted verbs: "image.approve", "user.ban", "ipban.create", "import.start".
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_repr = models.CharField(max_length=200, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Where the action came from ("dashboard", "api", "command") and what it changed.
    source = models.CharField(max_length=16, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="chevereto_audit_target"),
            models.Index(fields=["actor", "created_at"], name="chevereto_audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'}: {self.action} {self.target_repr}".strip()


class IpBan(models.Model):
    """A banned address or network (IPv4 or IPv6 CIDR), optionally until `expires_at`.

    `ip` holds the normalised text written by `chevereto.core.bans.network_normalize`: a
    single address ("203.0.113.7") or a network with its host bits cleared ("10.0.0.0/8"),
    so one range has one spelling and the API can address a ban by it.
    """

    ip = models.CharField("address or CIDR", max_length=64, unique=True)
    message = models.CharField(
        max_length=500, blank=True, default="", help_text="Shown to the banned visitor."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Empty: the ban never expires."
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "IP ban"
        verbose_name_plural = "IP bans"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.ip

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        _ip_bans_changed()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        _ip_bans_changed()
        return result

    @property
    def is_active(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


def _ip_bans_changed() -> None:
    # Every write drops this process's copy of the live bans (whatever wrote the row: the
    # services, the dashboard form, a shell), so a ban applies from the next request.
    from chevereto.core.bans import ip_bans_clear_cache

    ip_bans_clear_cache()
