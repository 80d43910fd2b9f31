"""The dashboard's import jobs: progress bars, issues, and audited actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from chevereto.core.models import AuditEntry
from imports.models import ImportIssue, ImportJob
from tests.factories import client_as

pytestmark = pytest.mark.django_db
LIST = "/dashboard/imports/importjob/"


@pytest.fixture
def boss() -> User:
    return User.objects.create_superuser(
        username="boss", email="b@example.com", password="x-1!aaaa"
    )


@pytest.fixture
def dashboard(boss: User) -> Client:
    return client_as(boss)


def test_the_list_shows_each_jobs_progress(dashboard: Client, tmp_path: Path) -> None:
    ImportJob.objects.create(
        kind="folder", status="running", options={"path": str(tmp_path)}, total=200, processed=50
    )
    page = dashboard.get(LIST)
    assert page.status_code == 200
    assert '<progress max="100" value="25"' in page.content.decode()
    assert "50 / 200 (25%)" in page.content.decode()


def test_a_jobs_page_lists_its_issues_and_masks_the_database_password(
    dashboard: Client, tmp_path: Path
) -> None:
    job = ImportJob.objects.create(
        kind="chevereto",
        options={"db": "mysql://reader:hunter2@db/site", "media": str(tmp_path), "prefix": "chv_"},
    )
    ImportIssue.objects.create(job=job, key="image:42", kind="missing", message="No file")
    page = dashboard.get(f"{LIST}{job.pk}/change/").content.decode()
    assert "image:42" in page and "No file" in page
    assert "hunter2" not in page


def test_the_pause_and_cancel_actions_go_through_the_services_and_are_audited(
    dashboard: Client, boss: User, tmp_path: Path
) -> None:
    queued = ImportJob.objects.create(kind="folder", options={"path": str(tmp_path)})
    done = ImportJob.objects.create(kind="folder", status="done", options={"path": str(tmp_path)})
    response = dashboard.post(
        LIST,
        {"action": "import_paused", "_selected_action": [queued.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    queued.refresh_from_db()
    done.refresh_from_db()
    assert (queued.status, done.status) == ("paused", "done")
    assert "Not paused: #" in response.content.decode()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.source) == ("import.pause", boss, "dashboard")

    dashboard.post(LIST, {"action": "import_cancelled", "_selected_action": [queued.pk]})
    queued.refresh_from_db()
    assert queued.status == "cancelled"


def test_jobs_cannot_be_edited_or_deleted_behind_the_services(
    dashboard: Client, tmp_path: Path
) -> None:
    job = ImportJob.objects.create(kind="folder", options={"path": str(tmp_path)})
    assert dashboard.get(f"{LIST}add/").status_code == 403
    assert dashboard.post(f"{LIST}{job.pk}/delete/", {"post": "yes"}).status_code == 403
    dashboard.post(LIST, {"action": "import_deleted", "_selected_action": [job.pk]})
    assert not ImportJob.objects.exists()
    assert AuditEntry.objects.get().action == "import.delete"
