"""Every change made through a dashboard form or the stock delete is one audit entry, with
who, what, which object and from which address; whatever app registered the ModelAdmin."""

from __future__ import annotations

import pytest
from django.contrib import admin

from accounts.models import User
from albums.models import Album
from chevereto.core.models import AuditEntry, SiteSettings
from dashboard.audit import AuditedAdminMixin
from tests.factories import client_as, make_album
from uploads.models import Category

pytestmark = pytest.mark.django_db


def test_every_registered_admin_is_audited() -> None:
    plain = [
        f"{model._meta.label}: {type(model_admin).__name__}"
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdminMixin)
    ]
    assert plain == []


def test_adding_a_category_in_the_dashboard_is_audited(admin_user: User) -> None:
    response = client_as(admin_user).post(
        "/dashboard/uploads/category/add/",
        {"name": "Nature", "slug": "nature", "description": ""},
        REMOTE_ADDR="198.51.100.20",
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    category = Category.objects.get()
    assert (entry.action, entry.target_type, entry.target_id) == (
        "category.add",
        "category",
        str(category.pk),
    )
    assert (entry.actor, entry.ip, entry.source) == (admin_user, "198.51.100.20", "dashboard")


def test_changing_the_site_settings_is_audited_with_what_changed(admin_user: User) -> None:
    site = SiteSettings.load()
    client = client_as(admin_user)
    form = client.get("/dashboard/chevereto/sitesettings/1/change/").context["adminform"].form
    data: dict[str, object] = {}
    for name, field in form.fields.items():
        value = sorted(site.formats) if name == "enabled_formats" else getattr(site, name)
        if field.show_hidden_initial:
            # What the browser sends beside fields with a callable default.
            data[f"initial-{name}"] = value
        if value is True:
            data[name] = "on"
        elif value is not False:
            data[name] = value
    data["site_name"] = "Harbour pictures"
    response = client.post("/dashboard/chevereto/sitesettings/1/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert SiteSettings.load().site_name == "Harbour pictures"
    entry = AuditEntry.objects.get(action="sitesettings.change")
    assert entry.details["log"] == [{"changed": {"fields": ["Site name"]}}]


def test_deleting_one_album_is_one_entry(admin_user: User, user: User) -> None:
    album = make_album(owner=user, name="Gone")
    client_as(admin_user).post(f"/dashboard/albums/album/{album.pk}/delete/", {"post": "yes"})
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id, entry.target_repr) == (
        "album.delete",
        str(album.pk),
        "Gone",
    )


def test_a_bulk_delete_is_one_entry_naming_every_row(admin_user: User, user: User) -> None:
    albums = [make_album(owner=user, name=f"A{i}") for i in range(3)]
    response = client_as(admin_user).post(
        "/dashboard/albums/album/",
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in albums],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Album.objects.exists()
    entry = AuditEntry.objects.get()
    assert entry.action == "album.delete"
    assert sorted(entry.details["ids"]) == sorted(str(a.pk) for a in albums)
    assert entry.details["count"] == 3
