"""Reads for moderation: the queue of uploads an admin should look at."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from moderation.models import Report
from uploads.models import Image

QUEUE_STATUSES = ("all", "pending", "reported")


def _open_reports() -> QuerySet[Report]:
    return Report.objects.filter(status=Report.Status.OPEN)


def _reported() -> Exists:
    return Exists(_open_reports().filter(image_id=OuterRef("pk")))


def queue_filter(*, status: str = "all") -> Q:
    """The moderation queue as a filter on uploads: live ones awaiting approval
    ("pending"), with an open report ("reported"), or either ("all")."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    if status == "pending":
        return live & Q(is_approved=False)
    if status == "reported":
        return live & Q(_reported())
    return live & (Q(is_approved=False) | Q(_reported()))


def moderation_queue(*, status: str = "all") -> QuerySet[Image]:
    """The queue, each upload with its uploader and its open reports (`open_report_list`,
    oldest first)."""
    if status not in QUEUE_STATUSES:
        raise ValueError(f"unknown queue status {status!r}")
    return (
        Image.objects.filter(queue_filter(status=status))
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=_open_reports().select_related("reporter").order_by("created_at", "id"),
                to_attr="open_report_list",
            )
        )
    )
