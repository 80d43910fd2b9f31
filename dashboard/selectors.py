"""What the dashboard home shows: head figures, 30 days of uploads and signups, the top
uploaders and the latest activity. A handful of aggregate queries, whatever the site's size
(each day series is one GROUP BY over an indexed date range)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from chevereto.core.models import AuditEntry
from social.stats import site_counts
from uploads.files import variant_file
from uploads.models import Image
from uploads.selectors import image_viewer_path

CHART_DAYS = 30


@dataclass(frozen=True)
class RecentUpload:
    image: Image
    thumb_url: str | None
    viewer_path: str


def _days(days: int) -> list[date]:
    today = timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def per_day(rows: QuerySet[Any], field: str, *, days: int = CHART_DAYS) -> list[dict[str, Any]]:
    """`[{"day": "2026-11-02", "count": 3}, ...]` for the last `days` days (today last,
    days without rows as 0), in the site's time zone."""
    span = _days(days)
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(span[0], time.min), zone)
    counted = dict(
        rows.filter(**{f"{field}__gte": start})
        .annotate(day=TruncDate(field, tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(n=Count("*"))
        .values_list("day", "n")
    )
    return [{"day": day.isoformat(), "count": counted.get(day, 0)} for day in span]


def top_uploaders(*, limit: int = 8) -> list[User]:
    return list(User.objects.filter(image_count__gt=0).order_by("-image_count", "id")[:limit])


def recent_uploads(*, limit: int = 12) -> list[RecentUpload]:
    images = Image.objects.select_related("user").order_by("-created_at", "-id")[:limit]
    out = []
    for image in images:
        thumb = variant_file(image, "thumb")
        out.append(
            RecentUpload(
                image=image,
                thumb_url="/" + thumb.name if thumb is not None else None,
                viewer_path=image_viewer_path(image),
            )
        )
    return out


def recent_signups(*, limit: int = 8) -> list[User]:
    return list(User.objects.order_by("-date_joined", "-id")[:limit])


def recent_audit(*, limit: int = 10) -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("-created_at", "-id")[:limit])


def dashboard_home() -> dict[str, Any]:
    """The dashboard home's context."""
    uploads = per_day(Image.objects.all(), "created_at")
    signups = per_day(User.objects.all(), "date_joined")
    return {
        "counts": site_counts(),
        "uploads_per_day": uploads,
        "signups_per_day": signups,
        "uploads_30d": sum(d["count"] for d in uploads),
        "signups_30d": sum(d["count"] for d in signups),
        "top_uploaders": top_uploaders(),
        "recent_uploads": recent_uploads(),
        "recent_signups": recent_signups(),
        "recent_audit": recent_audit(),
    }
