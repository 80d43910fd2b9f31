"""The dashboard's moderation: upload actions, the queue filter, reports and purge jobs."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.admin import helpers
from django.test import Client

from accounts.models import User
from chevereto.core.bans import ip_ban_for
from chevereto.core.models import AuditEntry
from moderation import services
from moderation.models import PurgeJob, Report
from moderation.reports import report_create
from tests.factories import client_as, make_image, make_user
from uploads.models import Image

pytestmark = pytest.mark.django_db

IMAGES = "/dashboard/uploads/image/"
REPORTS = "/dashboard/moderation/report/"


def act(client: Client, url: str, action: str, objects: list[Any], **extra: str) -> Any:
    return client.post(
        url, {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    )


@pytest.fixture
def dashboard(admin_user: User) -> Client:
    return client_as(admin_user)


def test_the_upload_list_shows_thumbnails_and_filters_the_moderation_queue(
    dashboard: Client, user: User
) -> None:
    make_image(owner=user, is_approved=False, title="Waiting")
    reported = make_image(owner=user, title="Reported")
    make_image(owner=user, title="Ordinary")
    report_create(image=reported, reporter=None, ip="192.0.2.1", reason="spam")
    page = dashboard.get(IMAGES, {"queue": "all"}).content.decode()
    assert "Waiting" in page and "Reported" in page and "Ordinary" not in page
    assert '<img src="/images/' in page  # the thumbnail column
    pending = dashboard.get(IMAGES, {"queue": "reported"}).content.decode()
    assert "Reported" in pending and "Waiting" not in pending


def test_approving_and_rejecting_from_the_list_are_audited(
    dashboard: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved = make_image(owner=user, is_approved=False)
    rejected = make_image(owner=user, is_approved=False)
    act(dashboard, IMAGES, "approve", [approved])
    with django_capture_on_commit_callbacks(execute=True):
        act(dashboard, IMAGES, "reject", [rejected])
    approved.refresh_from_db()
    assert approved.is_approved and not Image.objects.filter(pk=rejected.pk).exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "source"))
    assert actions == [("image.approve", "dashboard"), ("image.reject", "dashboard")]


def test_flagging_nsfw_changes_only_what_differs_and_is_audited(
    dashboard: Client, user: User
) -> None:
    plain = make_image(owner=user)
    flagged = make_image(owner=user, nsfw=True)
    act(dashboard, IMAGES, "flag_nsfw", [plain, flagged])
    assert set(Image.objects.values_list("nsfw", flat=True)) == {True}
    entry = AuditEntry.objects.get()
    assert entry.action == "image.nsfw" and entry.details["image_ids"] == [plain.pk]
    act(dashboard, IMAGES, "unflag_nsfw", [plain])
    plain.refresh_from_db()
    assert not plain.nsfw


def test_banning_the_uploaders_address_uses_the_ip_ban_service(
    dashboard: Client, user: User
) -> None:
    image = make_image(owner=user, uploader_ip="203.0.113.9")
    act(dashboard, IMAGES, "ban_uploader_address", [image])
    ban = ip_ban_for("203.0.113.9")
    assert ban is not None and ban.ip == "203.0.113.9"
    assert AuditEntry.objects.get().action == "ipban.create"
    # Again: already banned, a warning and no second entry.
    act(dashboard, IMAGES, "ban_uploader_address", [image])
    assert AuditEntry.objects.count() == 1


def test_an_admin_cannot_ban_their_own_address_from_an_image(dashboard: Client, user: User) -> None:
    image = make_image(owner=user, uploader_ip="127.0.0.1")
    act(dashboard, IMAGES, "ban_uploader_address", [image])
    assert ip_ban_for("127.0.0.1") is None


def test_deleting_everything_from_an_uploader_asks_first_then_starts_a_purge(
    dashboard: Client, admin_user: User
) -> None:
    spammer = make_user("spammer")
    image = make_image(owner=spammer)
    confirm = act(dashboard, IMAGES, "purge_uploader", [image])
    assert confirm.status_code == 200 and b"Yes, delete everything" in confirm.content
    assert not PurgeJob.objects.exists()
    with mock.patch.object(services, "purge_enqueue"):
        act(dashboard, IMAGES, "purge_uploader", [image], confirm="yes")
    job = PurgeJob.objects.get()
    assert (job.user, job.source, job.actor) == (spammer, "dashboard", admin_user)
    assert AuditEntry.objects.get().action == "purge.start"


def test_deleting_everything_from_an_address_starts_a_purge_of_it(
    dashboard: Client, user: User
) -> None:
    image = make_image(owner=None, uploader_ip="198.51.100.20")
    with mock.patch.object(services, "purge_enqueue"):
        act(dashboard, IMAGES, "purge_address", [image], confirm="yes")
    assert PurgeJob.objects.get().ip == "198.51.100.20"


def test_reports_are_dismissed_or_their_images_removed_from_the_dashboard(
    dashboard: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    kept = make_image(owner=user, title="Kept")
    removed = make_image(owner=user, title="Removed")
    keep_report = report_create(image=kept, reporter=None, ip="192.0.2.1", reason="spam")
    remove_report = report_create(image=removed, reporter=None, ip="192.0.2.1", reason="illegal")
    page = dashboard.get(REPORTS).content.decode()
    assert "Kept" in page and "Removed" in page
    act(dashboard, REPORTS, "dismiss", [keep_report])
    with django_capture_on_commit_callbacks(execute=True):
        act(dashboard, REPORTS, "remove_image", [remove_report])
    assert list(Image.objects.values_list("title", flat=True)) == ["Kept"]
    assert Report.objects.get().status == Report.Status.DISMISSED
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "report.dismiss",
        "report.remove_image",
    ]


def test_purge_jobs_are_shown_with_their_progress_and_never_edited(
    dashboard: Client, admin_user: User
) -> None:
    with mock.patch.object(services, "purge_enqueue"):
        job = services.purge_start(actor=admin_user, ip="192.0.2.77")
    listing = dashboard.get("/dashboard/moderation/purgejob/").content.decode()
    assert "192.0.2.77" in listing and "<progress" in listing
    assert dashboard.get("/dashboard/moderation/purgejob/add/").status_code == 403
    detail = dashboard.get(f"/dashboard/moderation/purgejob/{job.pk}/change/")
    assert detail.status_code == 200 and b'name="status"' not in detail.content
