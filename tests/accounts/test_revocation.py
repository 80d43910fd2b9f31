"""A new password revokes the user's API keys and ends their other sessions, on every path
that sets one; a login that only upgrades an imported hash revokes nothing."""

from __future__ import annotations

import io
import re

import bcrypt
import pytest
from django.conf import LazySettings
from django.core import mail
from django.core.management import call_command
from django.test import Client

from accounts.models import ApiKey, User
from accounts.services import api_key_authenticate, api_key_create
from chevereto.core.encoding import encode_id

pytestmark = pytest.mark.django_db

OLD = "Old-pass-4242"
NEW = "Brand-new-pass-77"


@pytest.fixture(autouse=True)
def _fast_hasher(settings: LazySettings) -> None:
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "accounts.hashers.CheveretoBcryptHasher",
    ]


@pytest.fixture
def dana(db: None) -> User:
    return User.objects.create_user(username="dana", email="dana@example.com", password=OLD)


def _logged_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _is_logged_in(browser: Client) -> bool:
    return browser.get("/settings/api").status_code == 200


def _live_keys(user: User) -> int:
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()


def test_changing_the_password_on_the_settings_page_revokes_keys_and_other_sessions(
    dana: User,
) -> None:
    key = api_key_create(user=dana).key
    here, elsewhere = _logged_in(dana), _logged_in(dana)
    response = here.post(
        "/settings/password",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert _is_logged_in(here)
    assert not _is_logged_in(elsewhere)
    assert _live_keys(dana) == 0
    refused = Client().get("/api/4/account/", HTTP_X_API_KEY=key)
    assert refused.status_code == 401
    # A new key can be made, and it works.
    fresh = api_key_create(user=dana).key
    assert api_key_authenticate(raw=fresh).user == dana


def test_a_refused_password_change_revokes_nothing(dana: User) -> None:
    api_key_create(user=dana)
    here, elsewhere = _logged_in(dana), _logged_in(dana)
    response = here.post(
        "/settings/password",
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 400
    assert _is_logged_in(elsewhere)
    assert _live_keys(dana) == 1


def test_changing_the_password_through_api_v4_with_the_session_keeps_it(dana: User) -> None:
    api_key_create(user=dana)
    here, elsewhere = _logged_in(dana), _logged_in(dana)
    response = here.patch(
        "/api/4/user/account/settings/",
        {"password": NEW, "current_password": OLD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert _is_logged_in(here)
    assert not _is_logged_in(elsewhere)
    assert _live_keys(dana) == 0
    dana.refresh_from_db()
    assert dana.check_password(NEW)


def test_changing_the_password_through_api_v4_with_a_key_revokes_that_key(dana: User) -> None:
    key = api_key_create(user=dana).key
    elsewhere = _logged_in(dana)
    api = Client()
    response = api.patch(
        "/api/4/user/account/settings/",
        {"password": NEW, "current_password": OLD},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 200, response.content
    assert api.get("/api/4/account/", HTTP_X_API_KEY=key).status_code == 401
    assert not _is_logged_in(elsewhere)


def test_api_v4_refuses_a_new_password_without_the_right_current_one(dana: User) -> None:
    key = api_key_create(user=dana).key
    for body in ({"password": NEW}, {"password": NEW, "current_password": "wrong-one"}):
        response = Client().patch(
            "/api/4/user/account/settings/",
            body,
            content_type="application/json",
            HTTP_X_API_KEY=key,
        )
        assert response.status_code == 400
        assert "current_password" in response.json()["error"]["message"]
    dana.refresh_from_db()
    assert dana.check_password(OLD)
    assert _live_keys(dana) == 1


def test_api_v4_refuses_a_weak_new_password_and_changes_nothing_else(dana: User) -> None:
    key = api_key_create(user=dana).key
    response = Client().patch(
        "/api/4/user/account/settings/",
        {"password": "123", "current_password": OLD, "name": "Dana D"},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 400
    dana.refresh_from_db()
    assert dana.name == "" and dana.check_password(OLD)
    assert _live_keys(dana) == 1


def test_guessing_the_current_password_through_api_v4_is_throttled(
    dana: User, settings: LazySettings
) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    key = api_key_create(user=dana).key
    statuses = [
        Client()
        .patch(
            "/api/4/user/account/settings/",
            {"password": NEW, "current_password": OLD if attempt == 2 else "guess"},
            content_type="application/json",
            HTTP_X_API_KEY=key,
        )
        .status_code
        for attempt in range(3)
    ]
    assert statuses == [400, 400, 429]
    dana.refresh_from_db()
    assert dana.check_password(OLD)


def test_an_admin_setting_a_password_through_api_v4_revokes_the_users_keys_and_sessions(
    dana: User, admin_key: str
) -> None:
    api_key_create(user=dana)
    elsewhere = _logged_in(dana)
    response = Client().patch(
        f"/api/4/admin/users/{_encoded(dana)}/",
        {"password": NEW},
        content_type="application/json",
        HTTP_X_API_KEY=admin_key,
    )
    assert response.status_code == 200, response.content
    assert not _is_logged_in(elsewhere)
    assert _live_keys(dana) == 0


def test_an_admin_changing_their_own_password_through_api_v4_keeps_their_session(
    admin_user: User,
) -> None:
    here = _logged_in(admin_user)
    response = here.patch(
        f"/api/4/admin/users/{_encoded(admin_user)}/",
        {"password": NEW},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert _is_logged_in(here)


def test_an_admin_setting_a_password_in_the_dashboard_revokes_the_users_keys_and_sessions(
    dana: User, admin_user: User
) -> None:
    api_key_create(user=dana)
    elsewhere = _logged_in(dana)
    response = _logged_in(admin_user).post(
        f"/dashboard/accounts/user/{dana.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content
    assert not _is_logged_in(elsewhere)
    assert _live_keys(dana) == 0


def test_a_password_reset_revokes_the_users_keys_and_sessions(dana: User) -> None:
    api_key_create(user=dana)
    elsewhere = _logged_in(dana)
    browser = Client()
    browser.post("/password-reset", {"email": "dana@example.com"})
    link = re.search(r"/password-reset/[^/\s]+/[^/\s]+", mail.outbox[-1].body).group(0)
    form = browser.get(link, follow=True)
    browser.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    dana.refresh_from_db()
    assert dana.check_password(NEW)
    assert not _is_logged_in(elsewhere)
    assert _live_keys(dana) == 0


def test_the_changepassword_command_revokes_the_users_keys(
    dana: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_key_create(user=dana)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW)
    call_command("changepassword", "dana", stdout=io.StringIO())
    assert _live_keys(dana) == 0


def test_logging_in_with_an_imported_chevereto_hash_upgrades_it_and_revokes_nothing(
    db: None,
) -> None:
    php_hash = bcrypt.hashpw(OLD.encode(), bcrypt.gensalt(4)).decode().replace("$2b$", "$2y$", 1)
    user = User.objects.create(username="imported", email="imp@example.com")
    User.objects.filter(pk=user.pk).update(password=f"chevereto_bcrypt${php_hash}")
    api_key_create(user=user)
    browser = Client()
    assert browser.post("/login", {"username": "imported", "password": OLD}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("md5$")  # rewritten with the site's own hasher
    assert _live_keys(user) == 1
    assert _is_logged_in(browser)


def _encoded(user: User) -> str:
    return encode_id(user.pk)
