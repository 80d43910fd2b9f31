"""API V4 admin routes for the site: categories, settings (with the dashboard's rules),
stats and the counter rebuild; each write audited."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import User
from chevereto.core.models import AuditEntry, SiteSettings
from tests.factories import make_image
from uploads.models import Category, Image

pytestmark = pytest.mark.django_db


def _as(key: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": key}


def _send(client: Client, method: str, url: str, key: str, body: dict) -> object:
    return client.generic(
        method, url, json.dumps(body), content_type="application/json", **_as(key)
    )


def test_categories_are_created_listed_edited_and_deleted(client: Client, admin_key: str) -> None:
    made = _send(client, "POST", "/api/4/admin/categories/", admin_key, {"name": "Street Art"})
    assert made.status_code == 201
    category = made.json()["category"]
    assert category["slug"] == "street-art"
    listed = client.get("/api/4/admin/categories/", **_as(admin_key)).json()["categories"]
    assert [c["name"] for c in listed] == ["Street Art"]
    url = f"/api/4/admin/categories/{category['id']}/"
    edited = _send(client, "PATCH", url, admin_key, {"description": "Walls"})
    assert edited.json()["category"]["description"] == "Walls"
    assert client.delete(url, **_as(admin_key)).json() == {"deleted": category["id"]}
    assert not Category.objects.exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["category.create", "category.edit", "category.delete"]


def test_deleting_a_category_keeps_its_uploads(client: Client, admin_key: str, user: User) -> None:
    category = Category.objects.create(name="Cats", slug="cats")
    image = make_image(owner=user, category=category)
    client.delete(f"/api/4/admin/categories/{category.pk}/", **_as(admin_key))
    image.refresh_from_db()
    assert image.category_id is None


def test_duplicate_and_blank_categories_are_refused(client: Client, admin_key: str) -> None:
    Category.objects.create(name="Cats", slug="cats")
    for body in (
        {"name": "cats"},
        {"name": "  "},
        {"name": "Dogs", "slug": "cats"},
        {"name": "X", "colour": 1},
    ):
        response = _send(client, "POST", "/api/4/admin/categories/", admin_key, body)
        assert response.status_code == 400, body
    assert Category.objects.count() == 1


def test_a_missing_category_is_a_404(client: Client, admin_key: str) -> None:
    for id in ("999999", "abc", "9" * 30):
        url = f"/api/4/admin/categories/{id}/"
        assert _send(client, "PATCH", url, admin_key, {"name": "Z"}).status_code == 404


def test_the_settings_are_read_and_edited(client: Client, admin_key: str) -> None:
    got = client.get("/api/4/admin/settings/", **_as(admin_key)).json()["settings"]
    assert got["site_name"] == SiteSettings.load().site_name
    assert isinstance(got["enabled_formats"], list)
    body = {"site_name": "Harbour", "enabled_formats": "jpg,png", "moderation": "guest"}
    edited = _send(client, "PATCH", "/api/4/admin/settings/", admin_key, body).json()["settings"]
    assert edited["enabled_formats"] == ["jpg", "png"] and edited["moderation"] == "guest"
    SiteSettings.clear_cache()
    site = SiteSettings.load()
    assert (site.site_name, site.enabled_formats) == ("Harbour", "jpg,png")
    entry = AuditEntry.objects.get()
    assert entry.action == "settings.edit"
    assert entry.details == {"changed": ["enabled_formats", "moderation", "site_name"]}


@pytest.mark.parametrize(
    "body",
    [
        {"thumb_width": 5},
        {"enabled_formats": []},
        {"enabled_formats": ["exe"]},
        {"moderation": "sometimes"},
        {"guest_api_key": "short"},
        {"updated": 1},
        {"user_max_filesize_mb": 0},
    ],
)
def test_bad_settings_are_refused_as_the_dashboard_refuses_them(
    client: Client, admin_key: str, body: dict
) -> None:
    before = SiteSettings.load()
    response = _send(client, "PATCH", "/api/4/admin/settings/", admin_key, body)
    assert response.status_code == 400
    SiteSettings.clear_cache()
    after = SiteSettings.load()
    assert (after.thumb_width, after.enabled_formats) == (
        before.thumb_width,
        before.enabled_formats,
    )
    assert not AuditEntry.objects.exists()


def test_stats_count_the_site(client: Client, admin_key: str, user: User) -> None:
    make_image(owner=user)
    stats = client.get("/api/4/admin/stats/", **_as(admin_key)).json()["stats"]
    assert (stats["users"], stats["images"], stats["videos"]) == (2, 1, 0)
    assert stats["storage_bytes"] > 0


def test_the_rebuild_recounts_and_is_audited(client: Client, admin_key: str, user: User) -> None:
    image = make_image(owner=user)
    User.objects.filter(pk=user.pk).update(image_count=40)
    Image.objects.filter(pk=image.pk).update(likes=3)
    body = client.post("/api/4/admin/stats/rebuild/", **_as(admin_key)).json()
    assert body["fixed"]["user.image_count"] == 1 and body["fixed"]["image.likes"] == 1
    user.refresh_from_db()
    assert user.image_count == 1
    assert AuditEntry.objects.get().action == "stats.rebuild"


def test_users_get_403(client: Client, api_key: str) -> None:
    for url in ("/api/4/admin/categories/", "/api/4/admin/settings/", "/api/4/admin/stats/"):
        assert client.get(url, **_as(api_key)).status_code == 403
    assert client.post("/api/4/admin/stats/rebuild/", **_as(api_key)).status_code == 403
