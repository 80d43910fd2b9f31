"""API V4 admin moderation: the queue, and bulk approve/reject."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from chevereto.core.encoding import encode_id
from chevereto.core.models import AuditEntry
from moderation.models import Report
from tests.conftest import files_under
from tests.factories import make_image
from uploads.models import Image

pytestmark = pytest.mark.django_db

QUEUE = "/api/4/admin/moderation/"
APPROVE = "/api/4/admin/images/bulk/approve/"


def as_key(key: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": key}


def test_the_queue_holds_uploads_awaiting_approval_and_reported_ones_with_their_reports(
    client: Client, admin_key: str, user: User, other_user: User
) -> None:
    pending = make_image(owner=user, is_approved=False)
    reported = make_image(owner=user, title="Reported")
    make_image(owner=user, title="Fine")
    Report.objects.create(image=reported, reporter=other_user, reason="spam", message="ads")
    Report.objects.create(image=reported, reporter_ip="192.0.2.4", reason="illegal")
    body = client.get(QUEUE, **as_key(admin_key)).json()
    ids = [item["image"]["id_encoded"] for item in body["queue"]]
    assert ids == [encode_id(pending.pk), encode_id(reported.pk)]
    first, second = body["queue"]
    assert first["is_approved"] is False and first["reports"] == []
    assert [(r["reason"], r["reporter"]) for r in second["reports"]] == [
        ("spam", "bob"),
        ("illegal", None),
    ]
    assert second["uploader"] == "alice"


def test_the_queue_filters_pending_or_reported_and_pages_by_cursor(
    client: Client, admin_key: str, user: User
) -> None:
    pending = [make_image(owner=user, is_approved=False) for _ in range(3)]
    reported = make_image(owner=user)
    Report.objects.create(image=reported, reporter_ip="192.0.2.4", reason="spam")
    only_reported = client.get(QUEUE, {"status": "reported"}, **as_key(admin_key)).json()
    assert [i["image"]["id_encoded"] for i in only_reported["queue"]] == [encode_id(reported.pk)]
    page = client.get(QUEUE, {"status": "pending", "per_page": 2}, **as_key(admin_key)).json()
    rest = client.get(
        QUEUE, {"status": "pending", "per_page": 2, "cursor": page["cursor"]}, **as_key(admin_key)
    ).json()
    seen = [i["image"]["id_encoded"] for i in page["queue"] + rest["queue"]]
    assert seen == [encode_id(image.pk) for image in pending] and rest["cursor"] is None


def test_an_unknown_queue_status_is_a_400(client: Client, admin_key: str) -> None:
    response = client.get(QUEUE, {"status": "everything"}, **as_key(admin_key))
    assert response.status_code == 400 and response.json()["status_code"] == 400


def test_a_user_key_cannot_see_the_queue(client: Client, api_key: str) -> None:
    assert client.get(QUEUE, **as_key(api_key)).status_code == 403


def test_bulk_approve_shows_the_uploads_and_reports_the_unknown_ids(
    client: Client, admin_key: str, user: User, admin_user: User
) -> None:
    waiting = make_image(owner=user, is_approved=False)
    Report.objects.create(image=waiting, reporter_ip="192.0.2.4", reason="spam")
    response = client.patch(
        APPROVE,
        {"image_ids": [encode_id(waiting.pk), encode_id(999999), "!!"], "is_approved": True},
        content_type="application/json",
        **as_key(admin_key),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["edited"] == [encode_id(waiting.pk)]
    assert [f["id"] for f in body["failed"]] == ["!!", encode_id(999999)]
    waiting.refresh_from_db()
    assert waiting.is_approved
    assert Report.objects.get().status == Report.Status.DISMISSED
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.actor) == ("image.approve", "api", admin_user)
    assert entry.details["image_ids"] == [waiting.pk]


def test_bulk_reject_deletes_the_uploads_and_their_files(
    client: Client,
    admin_key: str,
    user: User,
    media_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    kept = make_image(owner=user)
    kept_files = files_under(media_root)
    rejected = make_image(owner=user, is_approved=False)
    assert rejected.path in files_under(media_root)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            APPROVE,
            f"image_ids={encode_id(rejected.pk)}&is_approved=false",
            content_type="application/x-www-form-urlencoded",
            **as_key(admin_key),
        )
    assert response.json()["edited"] == [encode_id(rejected.pk)]
    assert list(Image.objects.values_list("pk", flat=True)) == [kept.pk]
    assert files_under(media_root) == kept_files
    user.refresh_from_db()
    assert user.image_count == 1
    assert AuditEntry.objects.get().action == "image.reject"


@pytest.mark.parametrize(
    "body",
    [
        {"image_ids": ["abc"]},
        {"is_approved": True},
        {"image_ids": ["abc"], "is_approved": "yes"},
        {"image_ids": ["abc"], "is_approved": True, "nsfw": True},
    ],
)
def test_a_malformed_approval_is_a_400(
    client: Client, admin_key: str, body: dict[str, object]
) -> None:
    response = client.patch(APPROVE, body, content_type="application/json", **as_key(admin_key))
    assert response.status_code == 400
    assert not AuditEntry.objects.exists()
