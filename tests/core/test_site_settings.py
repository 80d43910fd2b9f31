from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory, override_settings

from accounts.models import User
from chevereto.core.clientip import client_ip
from chevereto.core.models import SiteSettings


@pytest.mark.django_db
def test_the_defaults_are_the_ones_a_new_site_expects() -> None:
    site = SiteSettings.load()
    assert (site.user_max_filesize_mb, site.guest_max_filesize_mb) == (100, 10)
    assert (site.thumb_width, site.thumb_height, site.medium_width) == (320, 320, 500)
    assert site.storage_mode == "datefolder"
    assert site.url_uploads == "admins"
    assert site.expirable_uploads is True
    assert [limit for _, _, limit in site.flood_limits()] == [50, 500, 1000, 5000, 10000]
    assert site.formats == {
        "jpg",
        "png",
        "gif",
        "webp",
        "avif",
        "bmp",
        "heic",
        "mp4",
        "webm",
        "mov",
    }
    assert site.guest_api_key.startswith("chv_guest_")


@pytest.mark.django_db
def test_there_is_only_ever_one_settings_row() -> None:
    SiteSettings.load()
    extra = SiteSettings(site_name="Second")
    extra.save()
    assert SiteSettings.objects.count() == 1
    assert SiteSettings.load().site_name == "Second"


@pytest.mark.django_db
def test_it_validates_unknown_formats_and_bad_sizes() -> None:
    site = SiteSettings.load()
    site.enabled_formats = "jpg,exe"
    site.thumb_width = 2
    site.user_max_filesize_mb = 0
    with pytest.raises(ValidationError) as caught:
        site.full_clean()
    assert set(caught.value.message_dict) == {
        "enabled_formats",
        "thumb_width",
        "user_max_filesize_mb",
    }


@pytest.mark.django_db
def test_settings_cannot_be_deleted() -> None:
    with pytest.raises(ValidationError):
        SiteSettings.load().delete()


@pytest.mark.django_db
def test_an_admin_edits_the_settings_in_the_dashboard(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    site = SiteSettings.load()
    listing = client.get("/dashboard/chevereto/sitesettings/")
    assert listing.status_code == 302
    url = f"/dashboard/chevereto/sitesettings/{site.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "updated_at"}
    data.update(
        {
            "site_name": "Pictures",
            "guest_uploads": "",
            "enabled_formats": ["jpg", "png"],
            "flood_per_minute": "7",
            "keep_exif": "on",
            "flood_protection": "on",
            "expirable_uploads": "on",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    SiteSettings.clear_cache()
    saved = SiteSettings.load()
    assert saved.site_name == "Pictures"
    assert saved.guest_uploads is False
    assert saved.formats == {"jpg", "png"}
    assert saved.flood_per_minute == 7


@pytest.mark.django_db
def test_the_dashboard_lists_every_model(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    for url in [
        "/dashboard/",
        "/dashboard/accounts/user/",
        "/dashboard/accounts/apikey/",
        "/dashboard/albums/album/",
        "/dashboard/uploads/image/",
        "/dashboard/uploads/category/",
        "/dashboard/uploads/tag/",
        "/dashboard/uploads/image/?q=x&kind__exact=image",
        "/dashboard/accounts/user/?q=root",
    ]:
        assert client.get(url).status_code == 200, url
    # Internal bookkeeping is not for admins to edit.
    assert client.get("/dashboard/uploads/derivativelock/").status_code == 404


def test_the_client_address_is_remote_addr_without_trusted_proxies() -> None:
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "10.0.0.5"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_only_trusted_proxies_speak_for_the_client() -> None:
    factory = RequestFactory()
    forged = factory.get(
        "/", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9, 10.0.0.7", REMOTE_ADDR="10.0.0.5"
    )
    assert client_ip(forged) == "203.0.113.9"
    direct = factory.get("/", HTTP_X_FORWARDED_FOR="1.1.1.1", REMOTE_ADDR="198.51.100.4")
    assert client_ip(direct) == "198.51.100.4"
