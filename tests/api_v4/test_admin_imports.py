"""API V4 admin imports: create, list, show, change, act on and delete import jobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.services import api_key_create
from chevereto.core.models import AuditEntry
from imports.models import ImportIssue, ImportJob
from imports.runner import job_claim
from tests.factories import make_user
from tests.samples import jpeg_bytes
from uploads.models import Image

pytestmark = pytest.mark.django_db
BASE = "/api/4/admin/imports/"


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(
        username="root", email="r@example.com", password=None, is_staff=True, is_superuser=True
    )


@pytest.fixture
def api(staff: User) -> Any:
    key = api_key_create(user=staff).key
    client = Client()

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body) if body is not None else None
        if data is None:
            return client.generic(method, path, HTTP_X_API_KEY=key)
        return client.generic(
            method, path, data, content_type="application/json", HTTP_X_API_KEY=key
        )

    return call


@pytest.fixture
def photos(tmp_path: Path, settings: Any) -> Path:
    # Through the API, imports read only inside IMPORT_ROOTS.
    settings.IMPORT_ROOTS = [str(tmp_path)]
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    (root / "a.jpg").write_bytes(jpeg_bytes(color=(5, 5, 5)))
    (root / "trip" / "b.jpg").write_bytes(jpeg_bytes(color=(50, 5, 5)))
    (root / "broken.gif").write_bytes(b"GIF89a\x01\x00")
    return root


def test_staff_create_a_folder_import_that_a_worker_runs(
    api: Any, photos: Path, django_capture_on_commit_callbacks: Any
) -> None:
    make_user("ana")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            "POST", BASE, {"kind": "folder", "options": {"path": str(photos), "user": "ana"}}
        )
    assert response.status_code == 201
    job_id = response.json()["import"]["id"]

    body = api("GET", f"{BASE}{job_id}/").json()["import"]
    assert (body["status"], body["imported"], body["failed"], body["progress"]) == (
        "done",
        2,
        1,
        100.0,
    )
    assert body["issue_counts"] == {"corrupt": 1}
    assert body["issues"][0]["key"] == "broken.gif"
    assert Image.objects.filter(user__username="ana").count() == 2


def test_bad_options_are_refused_with_the_reason(api: Any) -> None:
    response = api("POST", BASE, {"kind": "folder", "options": {"path": "/no/such/dir"}})
    assert response.status_code == 400
    assert "not a folder" in response.json()["error"]["message"]
    assert api("POST", BASE, {"kind": "zip", "options": {}}).status_code == 400
    assert api("POST", BASE, {"kind": "folder", "options": {}, "extra": 1}).status_code == 400
    assert not ImportJob.objects.exists()


def test_the_list_filters_by_status_and_pages(api: Any, photos: Path, staff: User) -> None:
    for _ in range(3):
        ImportJob.objects.create(kind="folder", options={"path": str(photos)}, created_by=staff)
    ImportJob.objects.create(kind="folder", status="done", options={"path": str(photos)})
    page = api("GET", f"{BASE}?status=queued&per_page=2").json()
    assert [j["status"] for j in page["imports"]] == ["queued", "queued"]
    assert page["imports"][0]["created_by"] == "root"
    rest = api("GET", f"{BASE}?status=queued&per_page=2&cursor={page['cursor']}").json()
    assert len(rest["imports"]) == 1 and rest["cursor"] is None
    assert api("GET", f"{BASE}?status=sleeping").status_code == 400


def test_a_database_password_is_never_answered(api: Any, photos: Path) -> None:
    job = ImportJob.objects.create(
        kind="chevereto",
        options={"db": "mysql://reader:hunter2@db:3306/site", "media": str(photos)},
    )
    body = api("GET", f"{BASE}{job.pk}/").json()
    assert "hunter2" not in json.dumps(body)
    assert body["import"]["options"]["db"] == "mysql://reader:***@db:3306/site"


def test_pause_resume_cancel_and_reset_answer_409_when_the_state_forbids(
    api: Any, photos: Path
) -> None:
    job = ImportJob.objects.create(kind="folder", options={"path": str(photos), "user": None})
    assert api("POST", f"{BASE}{job.pk}/pause/").json()["import"]["status"] == "paused"
    assert api("POST", f"{BASE}{job.pk}/pause/").status_code == 409
    assert api("POST", f"{BASE}{job.pk}/cancel/").json()["import"]["status"] == "cancelled"
    refused = api("POST", f"{BASE}{job.pk}/resume/")
    assert refused.status_code == 409
    assert refused.json()["status_code"] == 409
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "source"))
    assert actions == [("import.pause", "api"), ("import.cancel", "api")]


def test_a_running_job_cannot_be_changed_or_deleted(api: Any, photos: Path) -> None:
    job = ImportJob.objects.create(kind="folder", options={"path": str(photos), "user": 1})
    job_claim(job.pk)
    assert api("PATCH", f"{BASE}{job.pk}/", {"options": {"album": "x"}}).status_code == 409
    assert api("DELETE", f"{BASE}{job.pk}/").status_code == 409
    assert api("POST", f"{BASE}{job.pk}/reset/").status_code == 409


def test_options_change_while_stopped_and_delete_forgets_the_job(
    api: Any, photos: Path, staff: User
) -> None:
    job = ImportJob.objects.create(
        kind="folder", status="paused", options={"path": str(photos), "user": staff.pk}
    )
    ImportIssue.objects.create(job=job, key="x.jpg", kind="corrupt", message="bad")
    changed = api("PATCH", f"{BASE}{job.pk}/", {"options": {"album": "Inbox"}})
    assert changed.status_code == 200
    assert changed.json()["import"]["options"]["album"] == "Inbox"
    assert api("PATCH", f"{BASE}{job.pk}/", {"options": {"nope": 1}}).status_code == 400
    assert api("DELETE", f"{BASE}{job.pk}/").json() == {"deleted": job.pk}
    assert not ImportJob.objects.exists() and not ImportIssue.objects.exists()


def test_reset_and_process_queue_the_job_again(
    api: Any, photos: Path, staff: User, django_capture_on_commit_callbacks: Any
) -> None:
    job = ImportJob.objects.create(
        kind="folder", status="failed", options={"path": str(photos), "user": staff.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = api("POST", f"{BASE}{job.pk}/reset/").json()["import"]
    assert body["status"] == "queued"
    job.refresh_from_db()
    assert (job.status, job.imported) == ("done", 2)
    assert api("POST", f"{BASE}{job.pk}/process/").status_code == 409


def test_unknown_or_malformed_ids_answer_404(api: Any) -> None:
    assert api("GET", f"{BASE}999999/").status_code == 404
    assert api("GET", f"{BASE}abc/").status_code == 404
    assert api("POST", f"{BASE}-1/resume/").status_code == 404


def test_users_are_refused(photos: Path) -> None:
    user = make_user("ana")
    key = api_key_create(user=user).key
    response = Client().get(BASE, HTTP_X_API_KEY=key)
    assert response.status_code == 403


def test_a_folder_outside_the_import_roots_is_refused(
    api: Any, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_ROOTS = [str(tmp_path / "imports")]
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports-elsewhere").mkdir()
    for path in ("/etc", str(tmp_path / "imports-elsewhere"), str(tmp_path / "imports/../")):
        response = api(
            "POST", "/api/4/admin/imports/", {"kind": "folder", "options": {"path": path}}
        )
        assert response.status_code == 400, path
        assert "IMPORT_ROOTS" in response.json()["error"]["message"]
    # A link inside the root that leads out of it is followed to where it leads: refused.
    (tmp_path / "imports" / "out").symlink_to("/etc")
    response = api(
        "POST",
        "/api/4/admin/imports/",
        {"kind": "folder", "options": {"path": str(tmp_path / "imports" / "out")}},
    )
    assert response.status_code == 400
    assert not ImportJob.objects.exists()
