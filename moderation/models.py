"""Moderation: reports from visitors, and purges (everything from a user or an address)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Report(models.Model):
    """A visitor's "report this image". Open reports land in the moderation queue until an
    admin dismisses them or removes the image (the report goes with the image; the audit log
    keeps what was done)."""

    class Reason(models.TextChoices):
        ILLEGAL = "illegal", "Illegal content"
        COPYRIGHT = "copyright", "Copyright infringement"
        NSFW = "nsfw", "Adult content not flagged as NSFW"
        ABUSE = "abuse", "Harassment or abuse"
        SPAM = "spam", "Spam"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"

    image = models.ForeignKey("uploads.Image", on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter_ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    message = models.TextField(max_length=1000, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open report per reporter per image: a user by account, a guest by address.
            models.UniqueConstraint(
                fields=["image", "reporter"],
                condition=models.Q(status="open", reporter__isnull=False),
                name="moderation_report_one_open_per_user",
            ),
            models.UniqueConstraint(
                fields=["image", "reporter_ip"],
                condition=models.Q(status="open", reporter__isnull=True),
                name="moderation_report_one_open_per_guest",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "image"], name="moderation_report_status_img"),
            # The per-address rate limit counts recent reports.
            models.Index(fields=["reporter_ip", "created_at"], name="moderation_report_ip_time"),
        ]

    def __str__(self) -> str:
        return f"report #{self.pk} ({self.get_reason_display()}) on image {self.image_id}"


class PurgeJob(models.Model):
    """Deleting everything from a user or an address, run by the worker in batches.

    The rows are hidden when the job is made; the worker then deletes them batch by batch.
    Everything it needs to carry on after a crash is here: the target, the counters, and the
    files of the last batch whose rows are gone but whose deletion was not confirmed yet.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The target as it was named, kept after the account is deleted.
    username = models.CharField(max_length=150, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    delete_user = models.BooleanField(default=False)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the job until this time; a worker that died lets it lapse and the
    # periodic resume hands the job to another.
    lease_until = models.DateTimeField(null=True, blank=True)

    images_total = models.PositiveIntegerField(default=0)
    images_deleted = models.PositiveIntegerField(default=0)
    files_deleted = models.PositiveIntegerField(default=0)
    albums_deleted = models.PositiveIntegerField(default=0)
    user_deleted = models.BooleanField(default=False)
    # [[storage id or null, name], ...] of rows already deleted whose files are not yet.
    pending_files = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "lease_until"], name="moderation_purge_todo")]

    def __str__(self) -> str:
        target = " and ".join(t for t in (self.username, self.ip or "") if t) or "nothing"
        return f"purge #{self.pk} of {target} ({self.status})"
