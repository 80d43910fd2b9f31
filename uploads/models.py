from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.text import slugify


class Category(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=60, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.slug:
            self.slug = slugify(self.name, allow_unicode=True)[:60] or "tag"
        super().save(*args, **kwargs)


class Storage(models.Model):
    """A place where uploaded files live, besides the configured default (`STORAGES["default"]`).

    An upload's `storage` says where its files are (NULL: the default storage); the one
    active storage is where new uploads go (none active: the default storage). Moving files
    between storages is `storage_migrate`, which switches each row once its files are copied.
    """

    class Kind(models.TextChoices):
        LOCAL = "local", "Local folder"
        S3 = "s3", "S3-compatible bucket"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    is_active = models.BooleanField(
        default=False, help_text="New uploads go here (only one storage is active)."
    )
    # local
    folder = models.CharField(max_length=500, blank=True, default="")
    # s3
    bucket = models.CharField(max_length=255, blank=True, default="")
    endpoint_url = models.CharField(max_length=500, blank=True, default="")
    region = models.CharField(max_length=64, blank=True, default="")
    prefix = models.CharField(
        max_length=255, blank=True, default="", help_text="A folder inside the bucket."
    )
    # Blank credentials fall back to the environment's (AWS_ACCESS_KEY_ID, instance roles).
    access_key_id = models.CharField(max_length=255, blank=True, default="")
    secret_access_key = models.CharField(max_length=255, blank=True, default="")
    addressing_style = models.CharField(
        max_length=8, blank=True, default="", help_text="path, virtual or blank (auto)."
    )
    public_url = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Where the bucket's files are public (a CDN): files redirect there unsigned.",
    )

    file_count = models.PositiveBigIntegerField(default=0)
    bytes_used = models.PositiveBigIntegerField(default=0)
    stats_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="uploads_one_active_storage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Image(models.Model):
    """An upload: an image or a video, with its stored files."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    # Bits of `chain`: which files exist in storage (Chevereto's values).
    CHAIN_THUMB = 1
    CHAIN_MEDIUM = 2
    CHAIN_IMAGE = 4
    CHAIN_FRAME = 16

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="images",
    )
    album = models.ForeignKey(
        "albums.Album", null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="images")

    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.IMAGE)
    # Storage: `path` is the original's storage name ("images/2024/06/04/cat.jpg").
    path = models.CharField(max_length=255, unique=True)
    storage_mode = models.CharField(max_length=20, default="datefolder")
    # Where the files are: NULL is the configured default storage (uploads.storage).
    storage = models.ForeignKey(
        Storage, null=True, blank=True, on_delete=models.PROTECT, related_name="images"
    )
    original_filename = models.CharField(max_length=255, blank=True, default="")
    mime = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bits = models.PositiveSmallIntegerField(default=8)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    md5 = models.CharField(max_length=32, db_index=True)
    source_md5 = models.CharField(max_length=32, blank=True, default="")
    exif = models.JSONField(null=True, blank=True)
    is_animated = models.BooleanField(default=False)
    is_360 = models.BooleanField(default=False)
    duration = models.FloatField(null=True, blank=True)

    title = models.CharField(max_length=100, blank=True, default="")
    description = models.TextField(max_length=25000, blank=True, default="")
    nsfw = models.BooleanField(default=False)
    is_approved = models.BooleanField(default=True)

    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    uploader_ip = models.GenericIPAddressField(null=True, blank=True)
    views = models.PositiveBigIntegerField(default=0)
    likes = models.PositiveBigIntegerField(default=0)

    chain = models.PositiveSmallIntegerField(default=CHAIN_IMAGE)
    thumb_width = models.PositiveIntegerField(default=0)
    thumb_height = models.PositiveIntegerField(default=0)
    thumb_size = models.PositiveIntegerField(default=0)
    medium_width = models.PositiveIntegerField(default=0)
    medium_height = models.PositiveIntegerField(default=0)
    medium_size = models.PositiveIntegerField(default=0)
    frame_size = models.PositiveIntegerField(default=0)

    delete_token_digest = models.CharField(max_length=64, blank=True, default="")
    # Random per-upload input of the delete token's HMAC: with it the token can be derived
    # again to show the same uploader its delete link when they upload the file again.
    delete_salt = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["user", "source_md5"]),
            models.Index(fields=["uploader_ip", "created_at"]),
            models.Index(fields=["user", "-created_at"]),
            # Keyset pagination: (created_at, id) after the filter a listing starts from.
            models.Index(fields=["user", "created_at", "id"], name="uploads_user_created_id"),
            models.Index(fields=["album", "created_at", "id"], name="uploads_album_created_id"),
            models.Index(fields=["created_at", "id"], name="uploads_created_id"),
            # Explore's "popular" order over every upload (and trending's, within its week).
            models.Index(fields=["likes", "views", "id"], name="uploads_likes_views_id"),
            # The other sorts of a user's list (API V4 user/images/list/), read backwards.
            models.Index(fields=["user", "size", "id"], name="uploads_user_size_id"),
            models.Index(fields=["user", "views", "id"], name="uploads_user_views_id"),
            models.Index(fields=["user", "likes", "id"], name="uploads_user_likes_id"),
        ]

    def __str__(self) -> str:
        return self.title or self.original_filename or self.path

    @property
    def is_video(self) -> bool:
        return self.kind == self.Kind.VIDEO

    def has(self, bit: int) -> bool:
        return bool(self.chain & bit)


class DerivativeLock(models.Model):
    """Who is making the derivatives of an upload right now, across processes and machines.

    A row is the lock; a stale one (its holder died) is taken over once `expires_at` passes.
    """

    image_id = models.BigIntegerField(primary_key=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"lock on image {self.image_id}"


class UploadAttempt(models.Model):
    """An upload answered without a new row (a duplicate returned as the existing upload).

    Flood limits count uploads by their rows; these count the answers that made none, so
    sending the same file again and again is not free.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    uploader_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["uploader_ip", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"upload attempt at {self.created_at:%Y-%m-%d %H:%M:%S}"


class ViewHit(models.Model):
    """One page view, waiting to be added to its image's or album's `views`.

    A page view only inserts a row (no lock, no read-modify-write of a hot counter row);
    a periodic task folds the rows into the counters in batches and deletes them.
    """

    image_id = models.BigIntegerField(null=True, blank=True)
    album_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return (
            f"view of image {self.image_id}" if self.image_id else f"view of album {self.album_id}"
        )
