"""The dashboard home at /dashboard/: figures, 30 days of uploads and signups as chart data,
top uploaders and the latest activity, for staff only."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from chevereto.core.audit import audit_record
from dashboard.selectors import CHART_DAYS, per_day
from tests.factories import client_as, make_album, make_image, make_user
from uploads.models import Image

pytestmark = pytest.mark.django_db


def _chart(html: str, name: str) -> list[dict[str, object]]:
    match = re.search(rf'<script id="{name}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no chart data {name}"
    return json.loads(match.group(1))


def test_guests_and_users_are_sent_to_the_login(user: User) -> None:
    for client in (Client(), client_as(user)):
        response = client.get("/dashboard/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_the_home_shows_the_site_figures(admin_user: User, user: User) -> None:
    album = make_album(owner=user)
    make_image(owner=user, album=album)
    make_image(owner=user)
    video = make_image(owner=None)
    Image.objects.filter(pk=video.pk).update(kind=Image.Kind.VIDEO)
    html = client_as(admin_user).get("/dashboard/").content.decode()
    assert re.search(r'data-figure="users">\s*2<', html)
    assert re.search(r'data-figure="images">\s*2<', html)
    assert re.search(r'data-figure="videos">\s*1<', html)
    assert re.search(r'data-figure="albums">\s*1<', html)
    stored = sum(Image.objects.values_list("size", flat=True))
    assert stored > 0 and 'data-figure="storage"' in html


def test_the_charts_hold_thirty_days_of_uploads_and_signups(admin_user: User, user: User) -> None:
    now = timezone.now()
    make_image(owner=user, created_at=now - timedelta(days=2))
    make_image(owner=user, created_at=now - timedelta(days=2))
    make_image(owner=user, created_at=now - timedelta(days=45))  # out of the window
    html = client_as(admin_user).get("/dashboard/").content.decode()
    uploads = _chart(html, "uploads-per-day")
    signups = _chart(html, "signups-per-day")
    assert len(uploads) == len(signups) == CHART_DAYS
    assert uploads[-1]["day"] == timezone.localdate().isoformat()
    by_day = {d["day"]: d["count"] for d in uploads}
    assert by_day[(timezone.localdate() - timedelta(days=2)).isoformat()] == 2
    assert sum(by_day.values()) == 2
    assert signups[-1]["count"] == 2  # alice and root joined today
    # Drawn by the local script, not inline code: the page stays CSP-ready.
    assert 'src="/static/dashboard/charts.js"' in html
    assert not re.search(r"<script(?![^>]*(src=|application/json))[^>]*>", html)


def test_per_day_counts_in_the_sites_time_zone(user: User) -> None:
    series = per_day(User.objects.all(), "date_joined", days=3)
    assert [d["count"] for d in series] == [0, 0, 1]


def test_the_home_lists_top_uploaders_latest_uploads_signups_and_audit(
    admin_user: User, user: User
) -> None:
    busy = make_user("busy")
    for _ in range(3):
        make_image(owner=busy)
    latest = make_image(owner=user, title="Newest harbour")
    audit_record(actor=admin_user, action="user.ban", target=user, ip="198.51.100.7", source="api")
    html = client_as(admin_user).get("/dashboard/").content.decode()
    top = html.split("Top uploaders", 1)[1].split("Latest signups", 1)[0]
    assert top.index("busy") < top.index("alice")
    assert "Newest harbour" in html and f"/{latest.path.rsplit('.', 1)[0]}.th." in html
    assert "user.ban" in html and "198.51.100.7" in html
    signups = html.split("Latest signups", 1)[1].split("Latest uploads", 1)[0]
    assert "busy" in signups


def test_the_home_still_lists_the_models(admin_user: User) -> None:
    html = client_as(admin_user).get("/dashboard/").content.decode()
    assert "/dashboard/accounts/user/" in html and "/dashboard/albums/album/" in html
