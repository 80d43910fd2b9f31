"""User bans: the account goes inactive, its keys and sessions stop working; unban reverses
the account but not the keys."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.bans import user_ban, user_unban
from accounts.models import ApiKey, User
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db


def test_a_banned_user_is_inactive_with_keys_revoked_and_sessions_deleted(
    user: User, other_user: User, admin_user: User
) -> None:
    api_key_create(user=user)
    browser, bystander = Client(), Client()
    browser.force_login(user)
    bystander.force_login(other_user)
    assert Session.objects.count() == 2

    user_ban(user=user, actor=admin_user, reason="spam")

    user.refresh_from_db()
    assert not user.is_active
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert Session.objects.count() == 1  # only the bystander's session is left


def test_an_unbanned_user_is_active_again_but_old_keys_stay_revoked(
    user: User, admin_user: User
) -> None:
    api_key_create(user=user)
    user_ban(user=user, actor=admin_user)
    user_unban(user=user, actor=admin_user)
    user.refresh_from_db()
    assert user.is_active
    assert not ApiKey.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_an_admin_cannot_ban_their_own_account(admin_user: User) -> None:
    with pytest.raises(ValidationError, match="your own"):
        user_ban(user=admin_user, actor=admin_user)
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_only_a_superuser_may_ban_staff(user: User) -> None:
    staff = User.objects.create_user(username="mod", password="pw-Mod-12345", is_staff=True)
    with pytest.raises(ValidationError, match="superuser"):
        user_ban(user=staff, actor=User.objects.create_user(username="m2", is_staff=True))
    staff.refresh_from_db()
    assert staff.is_active


def test_a_banned_user_s_key_is_refused_by_both_apis(
    client: Client, user: User, admin_user: User
) -> None:
    key = api_key_create(user=user).key
    assert client.get("/api/4/account/", HTTP_X_API_KEY=key).status_code == 200
    user_ban(user=user, actor=admin_user)

    v4 = client.get("/api/4/account/", HTTP_X_API_KEY=key)
    assert v4.status_code == 401
    assert v4.json()["error"]["code"] == 100
    v1 = client.post("/api/1/upload", {"source": "https://example.com/a.jpg"}, HTTP_X_API_KEY=key)
    assert v1.status_code == 401
    assert v1.json()["status_code"] == 401


def test_a_banned_user_s_browser_is_logged_out(user: User, admin_user: User) -> None:
    browser = Client()
    browser.force_login(user)
    assert browser.get("/settings").status_code == 200
    user_ban(user=user, actor=admin_user)
    response = browser.get("/settings")
    assert response.status_code == 302
    assert response["Location"].startswith("/login")


def test_a_banned_user_cannot_log_in_again(client: Client, user: User, admin_user: User) -> None:
    user_ban(user=user, actor=admin_user)
    client.post("/login", {"username": "alice", "password": "pw-Alice-123"})
    assert "_auth_user_id" not in client.session
    user_unban(user=user, actor=admin_user)
    client.post("/login", {"username": "alice", "password": "pw-Alice-123"})
    assert client.session["_auth_user_id"] == str(user.pk)
