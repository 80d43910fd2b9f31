"""The dashboard's IP bans (CIDR checked in the form, writes audited) and its audit log
(browsable, never editable, even by a superuser)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from chevereto.core.audit import audit_record
from chevereto.core.bans import ip_ban_create, ip_ban_for
from chevereto.core.models import AuditEntry, IpBan

pytestmark = pytest.mark.django_db


@pytest.fixture
def dashboard(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _add(dashboard: Client, ip: str, **extra: str) -> Any:
    data = {"ip": ip, "message": "", "expires_at_0": "", "expires_at_1": "", **extra}
    return dashboard.post(reverse("admin:chevereto_ipban_add"), data)


def test_an_admin_bans_a_range_from_the_dashboard_and_it_is_audited(dashboard: Client) -> None:
    response = _add(dashboard, "10.1.2.3/8", message="Abuse")
    assert response.status_code == 302
    ban = IpBan.objects.get()
    assert ban.ip == "10.0.0.0/8"
    assert ban.created_by is not None
    assert ip_ban_for("10.9.9.9") == ban
    entry = AuditEntry.objects.get(action__startswith="ipban.")
    assert entry.target_id == str(ban.pk)
    assert entry.source == "dashboard"


@pytest.mark.parametrize("ip", ["10.0.0.0/33", "300.1.2.3", "2001:db8::/129", "banana", ""])
def test_a_malformed_address_or_range_is_refused_by_the_form(dashboard: Client, ip: str) -> None:
    response = _add(dashboard, ip)
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors["ip"]
    assert not IpBan.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_admin_cannot_ban_a_range_holding_their_own_address(dashboard: Client) -> None:
    response = _add(dashboard, "127.0.0.0/8")
    assert response.status_code == 200
    assert "your own address" in str(response.context["adminform"].form.errors["ip"])
    assert not IpBan.objects.exists()


def test_the_same_range_in_another_spelling_is_refused_as_a_duplicate(dashboard: Client) -> None:
    ip_ban_create(ip="10.0.0.0/8")
    response = _add(dashboard, "10.200.0.1/8")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["ip"]
    assert IpBan.objects.count() == 1


def test_deleting_bans_from_the_list_lifts_them_at_once(dashboard: Client) -> None:
    ban = ip_ban_create(ip="198.51.100.0/24")
    assert ip_ban_for("198.51.100.1") == ban
    response = dashboard.post(
        reverse("admin:chevereto_ipban_changelist"),
        {"action": "delete_selected", "_selected_action": [ban.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert ip_ban_for("198.51.100.1") is None


def test_searching_an_address_finds_the_range_that_covers_it(dashboard: Client) -> None:
    ip_ban_create(ip="198.51.100.0/24", message="range")
    ip_ban_create(ip="192.0.2.1", message="other")
    response = dashboard.get(reverse("admin:chevereto_ipban_changelist"), {"q": "198.51.100.77"})
    assert [ban.ip for ban in response.context["cl"].result_list] == ["198.51.100.0/24"]


def test_the_audit_log_is_browsable(dashboard: Client, admin_user: User) -> None:
    entry = audit_record(actor=admin_user, action="user.ban", target_repr="mallory")
    listing = dashboard.get(reverse("admin:chevereto_auditentry_changelist"))
    assert listing.status_code == 200
    assert "mallory" in listing.content.decode()
    detail = dashboard.get(reverse("admin:chevereto_auditentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert not detail.context["has_change_permission"]


def test_the_audit_log_is_never_editable_even_by_a_superuser(
    dashboard: Client, admin_user: User
) -> None:
    entry = audit_record(actor=admin_user, action="user.ban", target_repr="mallory")
    assert dashboard.get(reverse("admin:chevereto_auditentry_add")).status_code == 403
    changed = dashboard.post(
        reverse("admin:chevereto_auditentry_change", args=[entry.pk]), {"action": "forged"}
    )
    assert changed.status_code == 403
    deleted = dashboard.post(
        reverse("admin:chevereto_auditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403
    bulk = dashboard.post(
        reverse("admin:chevereto_auditentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    entry.refresh_from_db()
    assert entry.action == "user.ban"
    assert bulk.status_code in {200, 302}  # no such action: nothing happens
    assert AuditEntry.objects.count() == 1
