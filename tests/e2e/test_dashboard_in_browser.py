"""Staff open the dashboard home in Chromium: the figures, the two charts drawn by the local
script, the top uploaders and the latest activity; then the user list with its avatars, and
a user downloads their own data from /settings/export."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from chevereto.core.audit import audit_record
from tests.e2e.conftest import log_in
from tests.factories import make_album, make_image, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _site() -> None:
    admin = make_user("root", password="pw-Root-123", is_staff=True, is_superuser=True)
    now = timezone.now()
    for index, name in enumerate(("marta", "li", "tomas")):
        person = make_user(name)
        album = make_album(owner=person, name=f"{name.title()}'s trips")
        for day in range(0, 24, 3 + index):
            make_image(owner=person, album=album, created_at=now - timedelta(days=day))
    audit_record(actor=admin, action="user.ban", target=person, ip="198.51.100.7", source="api")
    audit_record(actor=admin, action="category.create", target_repr="Street", source="dashboard")


def test_the_dashboard_home_draws_its_charts(live_server, page, shoot) -> None:
    _site()
    errors: list[str] = []
    # Failed loads are caught by status below; the console's copy of them would also name
    # the browser's own /favicon.ico probe, which the site does not serve.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    base = live_server.url
    log_in(page, base, "root", "pw-Root-123")
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("[data-chart='uploads-per-day'][data-drawn='true']")
    page.wait_for_selector("[data-chart='signups-per-day'][data-drawn='true']")
    assert page.locator("[data-figure=users]").inner_text() == "4"
    assert page.locator("[data-figure=albums]").inner_text() == "3"
    uploads = page.locator("[data-chart='uploads-per-day'] svg rect")
    assert uploads.count() == 30
    assert page.locator("[data-chart='uploads-per-day'] svg rect.dash-bar").count() >= 8
    # Every thumbnail of the latest uploads loaded (served by the site).
    page.wait_for_function(
        "() => [...document.querySelectorAll('.dash-thumbs img')].every(i => i.naturalWidth > 0)"
    )
    assert page.locator(".dash-thumbs img").count() == 12
    assert "user.ban" in page.locator(".dash-audit").inner_text()
    top = page.locator(".dash-people").first.inner_text()
    assert top.index("marta") < top.index("tomas")
    shoot(page, "dashboard-home")
    assert errors == []

    page.goto(f"{base}/dashboard/accounts/user/")
    assert page.locator("#result_list tbody tr").count() == 4
    shoot(page, "dashboard-users")


def test_a_user_downloads_their_data(live_server, page, shoot, tmp_path: Path) -> None:
    person = make_user("marta", password="pw-Marta-123")
    make_image(owner=person, album=make_album(owner=person, name="Lisbon"), title="Tram")
    base = live_server.url
    log_in(page, base, "marta", "pw-Marta-123")
    page.goto(f"{base}/settings")
    page.click("nav.settings-nav a:has-text('Export data')")
    page.wait_for_url(f"{base}/settings/export")
    shoot(page, "settings-export")
    with page.expect_download() as download:
        page.click("[data-testid=export-download]")
    target = tmp_path / "export.zip"
    download.value.save_as(target)
    archive = zipfile.ZipFile(target)
    assert "albums/Lisbon/harbour.png" in archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    assert [i["title"] for i in manifest["images"]] == ["Tram"]
