"""Reports: "report this image" on the viewer, and how admins resolve them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from chevereto.core.encoding import encode_id
from chevereto.core.models import AuditEntry
from moderation.models import Report
from moderation.reports import REPORTS_PER_HOUR, ReportError, report_create, reports_resolve
from moderation.selectors import moderation_queue
from tests.factories import client_as, make_album, make_image
from uploads.models import Image
from uploads.selectors import image_viewer_path

pytestmark = pytest.mark.django_db


def report_url(image: Image) -> str:
    return f"/image/{encode_id(image.pk)}/report"


def test_the_viewer_links_to_the_report_form(client: Client, user: User) -> None:
    image = make_image(owner=user)
    page = client.get(image_viewer_path(image)).content.decode()
    assert f'href="{report_url(image)}"' in page


def test_a_guest_reports_an_image_and_it_lands_in_the_queue(client: Client, user: User) -> None:
    image = make_image(owner=user)
    form = client.get(report_url(image))
    assert form.status_code == 200 and b'name="reason"' in form.content
    sent = client.post(report_url(image), {"reason": "illegal", "message": "Stolen photo"})
    assert sent.status_code == 200 and b"report was sent" in sent.content
    report = Report.objects.get()
    assert (report.reporter, report.reporter_ip, report.reason, report.message) == (
        None,
        "127.0.0.1",
        "illegal",
        "Stolen photo",
    )
    assert list(moderation_queue()) == [image]


def test_a_guest_report_without_the_csrf_token_is_refused(user: User) -> None:
    image = make_image(owner=user)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(report_url(image), {"reason": "spam"})
    assert response.status_code == 403 and not Report.objects.exists()


def test_one_open_report_per_reporter_per_image(user: User, other_user: User) -> None:
    image = make_image(owner=user)
    browser = client_as(other_user)
    assert browser.post(report_url(image), {"reason": "spam"}).status_code == 200
    again = browser.post(report_url(image), {"reason": "abuse"})
    assert again.status_code == 409 and b"already reported" in again.content
    assert Report.objects.get().reporter == other_user


def test_a_dismissed_report_lets_the_same_person_report_again(user: User, other_user: User) -> None:
    image = make_image(owner=user)
    first = report_create(image=image, reporter=other_user, ip="192.0.2.1", reason="spam")
    reports_resolve(reports=[first], remove_image=False, actor=None, source="dashboard")
    second = report_create(image=image, reporter=other_user, ip="192.0.2.1", reason="spam")
    assert second.pk != first.pk and second.status == Report.Status.OPEN


def test_reports_are_rate_limited_per_address(user: User) -> None:
    images = [make_image(owner=user) for _ in range(REPORTS_PER_HOUR + 1)]
    for image in images[:REPORTS_PER_HOUR]:
        report_create(image=image, reporter=None, ip="198.51.100.3", reason="spam")
    with pytest.raises(ReportError) as refused:
        report_create(image=images[-1], reporter=None, ip="198.51.100.3", reason="spam")
    assert refused.value.code == "rate_limited"
    report_create(image=images[-1], reporter=None, ip="198.51.100.4", reason="spam")


def test_the_form_answers_429_when_the_address_has_reported_too_much(
    client: Client, user: User
) -> None:
    images = [make_image(owner=user) for _ in range(REPORTS_PER_HOUR + 1)]
    for image in images[:REPORTS_PER_HOUR]:
        report_create(image=image, reporter=None, ip="127.0.0.1", reason="spam")
    assert client.post(report_url(images[-1]), {"reason": "spam"}).status_code == 429


@pytest.mark.parametrize(
    "form", [{}, {"reason": "boring"}, {"reason": "spam", "message": "x" * 1001}]
)
def test_a_report_without_a_known_reason_or_with_a_long_message_is_refused(
    client: Client, user: User, form: dict[str, str]
) -> None:
    image = make_image(owner=user)
    assert client.post(report_url(image), form).status_code == 400
    assert not Report.objects.exists()


def test_nobody_can_report_what_they_cannot_see(client: Client, user: User) -> None:
    private = make_image(owner=user, album=make_album(owner=user, privacy="private"))
    pending = make_image(owner=user, is_approved=False)
    for image in (private, pending):
        assert client.get(report_url(image)).status_code == 404
        assert client.post(report_url(image), {"reason": "spam"}).status_code == 404
    assert client.get("/image/zzzzzzzz/report").status_code == 404


def test_dismissing_reports_keeps_the_image_and_writes_one_audit_entry(
    user: User, admin_user: User
) -> None:
    image = make_image(owner=user)
    reports = [
        report_create(image=image, reporter=None, ip=f"192.0.2.{n}", reason="spam") for n in (1, 2)
    ]
    assert reports_resolve(reports=reports, remove_image=False, actor=admin_user, source="api") == 2
    assert Image.objects.filter(pk=image.pk).exists()
    assert set(Report.objects.values_list("status", "resolved_by")) == {
        (Report.Status.DISMISSED, admin_user.pk)
    }
    assert list(moderation_queue()) == []
    entry = AuditEntry.objects.get()
    assert entry.action == "report.dismiss" and entry.details["image_ids"] == [image.pk]


def test_removing_a_reported_image_deletes_it_and_its_reports(
    user: User, admin_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    image = make_image(owner=user)
    report = report_create(image=image, reporter=None, ip="192.0.2.1", reason="illegal")
    with django_capture_on_commit_callbacks(execute=True):
        reports_resolve(reports=[report], remove_image=True, actor=admin_user, source="dashboard")
    assert not Image.objects.exists() and not Report.objects.exists()
    user.refresh_from_db()
    assert user.image_count == 0
    assert AuditEntry.objects.get().action == "report.remove_image"
