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
