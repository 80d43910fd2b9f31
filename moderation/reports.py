"""Reports from visitors ("report this image") and how admins resolve them.

A report lands in the moderation queue; an admin dismisses it (the image stays) or removes
the image (its reports go with it). Both are audited here, one entry per call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from chevereto.core.audit import audit_record
from moderation.models import Report
from uploads.models import Image
from uploads.purge import images_delete_now

# Reports one address may send per hour: enough for a person, too few to flood the queue.
REPORTS_PER_HOUR = 10
MESSAGE_MAX = 1000


class ReportError(ValueError):
    """A report that is refused, with a message for the reporter."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code  # "duplicate" | "rate_limited" | "invalid"


def report_create(
    *, image: Image, reporter: User | None, ip: str | None, reason: str, message: str = ""
) -> Report:
    """File a report. One open report per reporter per image (an account, or an address
    for guests); at most REPORTS_PER_HOUR per address."""
    if reason not in Report.Reason.values:
        raise ReportError("Choose a reason for the report.", code="invalid")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise ReportError(f"At most {MESSAGE_MAX} characters, please.", code="invalid")
    reporter = reporter if reporter is not None and reporter.is_authenticated else None
    since = timezone.now() - timedelta(hours=1)
    if ip and Report.objects.filter(reporter_ip=ip, created_at__gte=since).count() >= (
        REPORTS_PER_HOUR
    ):
        raise ReportError(
            "Too many reports from your address; try again later.", code="rate_limited"
        )
    mine = Report.objects.filter(image=image, status=Report.Status.OPEN)
    mine = (
        mine.filter(reporter=reporter)
        if reporter
        else mine.filter(reporter__isnull=True, reporter_ip=ip)
    )
    if mine.exists():
        raise ReportError("You have already reported this image.", code="duplicate")
    try:
        with transaction.atomic():
            return Report.objects.create(
                image=image, reporter=reporter, reporter_ip=ip, reason=reason, message=message
            )
    except IntegrityError:  # the same report sent twice at once: the constraint decides
        raise ReportError("You have already reported this image.", code="duplicate") from None


def reports_resolve(
    *,
    reports: list[Report],
    remove_image: bool,
    actor: Any,
    source: str,
    ip: str | None = None,
) -> int:
    """Dismiss open reports (the images stay), or remove their images (and with them every
    report on them). Returns how many reports were resolved; one audit entry."""
    open_reports = [r for r in reports if r.status == Report.Status.OPEN]
    if not open_reports:
        return 0
    report_ids = [r.pk for r in open_reports]
    image_ids = sorted({r.image_id for r in open_reports})
    if remove_image:
        images_delete_now(queryset=Image.objects.filter(pk__in=image_ids))
    else:
        Report.objects.filter(pk__in=report_ids, status=Report.Status.OPEN).update(
            status=Report.Status.DISMISSED,
            resolved_at=timezone.now(),
            resolved_by=actor if isinstance(actor, User) and actor.pk else None,
        )
    target: dict[str, Any] = {"target_type": "report"}
    if len(report_ids) == 1:
        target["target_id"] = report_ids[0]
    audit_record(
        actor=actor,
        action="report.remove_image" if remove_image else "report.dismiss",
        ip=ip,
        source=source,
        details={"report_ids": report_ids, "image_ids": image_ids},
        **target,
    )
    return len(report_ids)
