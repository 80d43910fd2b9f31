"""Import jobs: a folder or a Chevereto site brought into this one, resumably."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One import, run by a worker or a management command, in steps that can be resumed.

    `options` holds what was asked (a folder and its owner, or a database URL, a media root
    and a table prefix); `state` holds the importer's cursor, so an interrupted run resumes
    where it stopped. Counters are updated as the run goes, for the progress bars.
    """

    class Kind(models.TextChoices):
        FOLDER = "folder", "Folder"
        CHEVERETO = "chevereto", "Chevereto site"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    options = models.JSONField(default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True)
    total = models.PositiveBigIntegerField(default=0)
    processed = models.PositiveBigIntegerField(default=0)
    imported = models.PositiveBigIntegerField(default=0)
    skipped = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(default=0)
    # Why the job stopped, when it failed as a whole (a database it could not reach).
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written by the running importer every batch: a RUNNING job whose heartbeat is old
    # lost its process and may be taken over.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.status})"


class ImportItem(models.Model):
    """A source item already imported by a job (a file's relative path, "image:123"), and
    what it became: a resumed run skips it, so nothing is imported twice."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=512)
    target_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="imports_item_once_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.target_id}"


class ImportIssue(models.Model):
    """A file or row the job could not import (corrupt, unsupported, missing, orphaned)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    key = models.CharField(max_length=512)
    # "corrupt", "unsupported", "missing", "orphan", "error", "crashed" (see runner).
    kind = models.CharField(max_length=16)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "kind"], name="imports_issue_job_kind")]

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"
