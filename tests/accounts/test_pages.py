from __future__ import annotations

import json
import logging
import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate
from chevereto.core.models import SiteSettings

pytestmark = pytest.mark.django_db


def test_a_visitor_signs_up_confirms_by_email_and_is_logged_in(client: Client) -> None:
    response = client.post(
        "/signup",
        {
            "username": "carol_1",
            "email": "carol@example.com",
            "password1": "Tricky-pass-42",
            "password2": "Tricky-pass-42",
        },
    )
    assert response.status_code == 200
    link = re.search(r"/signup/confirm/\S+", mail.outbox[0].body).group(0)
    assert client.post(link).status_code == 302
    assert client.get("/").context["user"].username == "carol_1"


@pytest.mark.parametrize("username", ["ab", "has space", "dashboard", "Settings", "x" * 17])
def test_signup_refuses_bad_or_reserved_usernames(client: Client, username: str) -> None:
    response = client.post(
        "/signup",
        {
            "username": username,
            "email": "d@example.com",
            "password1": "Tricky-pass-42",
            "password2": "Tricky-pass-42",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not User.objects.filter(email="d@example.com").exists()


def test_signup_refuses_a_username_that_differs_only_in_case(client: Client, user: User) -> None:
    response = client.post(
        "/signup",
        {
            "username": "ALICE",
            "email": "e@example.com",
            "password1": "Tricky-pass-42",
            "password2": "Tricky-pass-42",
        },
    )
    assert "username" in response.context["form"].errors


def test_login_and_logout_work_at_chevereto_paths(client: Client, user: User) -> None:
    assert (
        client.post("/login", {"username": "alice", "password": "pw-Alice-123"}).status_code == 302
    )
    assert client.get("/settings/api").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/settings/api").status_code == 302


def test_the_api_settings_page_requires_login(client: Client) -> None:
    response = client.get("/settings/api")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_a_user_creates_sees_the_key_once_then_only_its_prefix(
    client_logged_in: Client, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = client_logged_in.post("/settings/api", {"action": "create"})
    assert created["Cache-Control"] == "no-store"
    key = re.search(r'value="(chv_[^"]+)"', created.content.decode()).group(1)
    assert api_key_authenticate(raw=key).user == user
    again = client_logged_in.get("/settings/api").content.decode()
    assert key not in again
    assert ApiKey.objects.get(user=user, revoked_at__isnull=True).prefix in again
    assert key not in caplog.text


def test_regenerate_and_revoke_from_the_page(client_logged_in: Client, user: User) -> None:
    first = re.search(
        r'value="(chv_[^"]+)"',
        client_logged_in.post("/settings/api", {"action": "create"}).content.decode(),
    ).group(1)
    second = re.search(
        r'value="(chv_[^"]+)"',
        client_logged_in.post("/settings/api", {"action": "regenerate"}).content.decode(),
    ).group(1)
    assert first != second
    client_logged_in.post("/settings/api", {"action": "revoke"})
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_the_api_settings_page_needs_csrf(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/settings/api", {"action": "create"}).status_code == 403
    assert not ApiKey.objects.exists()


def test_the_sharex_download_carries_a_fresh_working_key(
    client_logged_in: Client, user: User
) -> None:
    response = client_logged_in.post("/settings/api/sharex")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.sxcu"')
    config = json.loads(response.content)
    assert config["RequestURL"] == "http://testserver/api/1/upload"
    assert config["Body"] == "MultipartFormData" and config["FileFormName"] == "source"
    assert config["URL"] == "{json:image.url}"
    assert config["ThumbnailURL"] == "{json:image.thumb.url}"
    assert config["DeletionURL"] == "{json:image.delete_url}"
    assert config["ErrorMessage"] == "{json:error.message}"
    assert api_key_authenticate(raw=config["Headers"]["X-API-Key"]).user == user


def test_the_sharex_download_is_post_only(client_logged_in: Client) -> None:
    assert client_logged_in.get("/settings/api/sharex").status_code == 405


def test_the_api_docs_page_shows_the_guest_key_only_when_guests_may_upload(
    client: Client, site: SiteSettings
) -> None:
    assert site.guest_api_key in client.get("/api-v1").content.decode()
    site.guest_uploads = False
    site.save()
    assert site.guest_api_key not in client.get("/api-v1").content.decode()


def test_a_user_changes_their_password(client_logged_in: Client, user: User) -> None:
    response = client_logged_in.post(
        "/settings/password",
        {
            "old_password": "pw-Alice-123",
            "new_password1": "Another-pass-77",
            "new_password2": "Another-pass-77",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-pass-77")


def test_the_home_page_and_the_dashboard_login_answer(client: Client) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/dashboard/").status_code == 302


def test_the_page_that_shows_a_new_key_offers_a_sharex_file_with_that_key(
    client_logged_in: Client,
) -> None:
    import base64

    page = client_logged_in.post("/settings/api", {"action": "create"}).content.decode()
    key = re.search(r'value="(chv_[^"]+)"', page).group(1)
    href = re.search(
        r'href="data:application/json;base64,([^"]+)" download="testserver.sxcu"', page
    ).group(1)
    config = json.loads(base64.b64decode(href))
    assert config["Headers"]["X-API-Key"] == key
    assert config["RequestURL"] == "http://testserver/api/1/upload"
