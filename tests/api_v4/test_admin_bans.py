"""`/api/4/admin/bans/ip/`: staff list, create, edit and lift IP bans, by address or range."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_create
from chevereto.core.bans import ip_ban_create, ip_ban_for
from chevereto.core.models import AuditEntry, IpBan

pytestmark = pytest.mark.django_db

BANS = "/api/4/admin/bans/ip/"


@pytest.fixture
def staff_key(admin_user: User) -> str:
    return api_key_create(user=admin_user).key


def call(client: Client, method: str, path: str, key: str, body: Any = None, **extra: Any) -> Any:
    if body is None:
        return client.generic(method, path, HTTP_X_API_KEY=key, **extra)
    return client.generic(
        method, path, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=key, **extra
    )


def test_staff_ban_a_range_and_it_applies_at_once(client: Client, staff_key: str) -> None:
    response = call(client, "POST", BANS, staff_key, {"ip": "10.1.2.3/8", "message": "Abuse"})
    assert response.status_code == 201
    ban = response.json()["ban"]
    assert ban["ip"] == "10.0.0.0/8"
    assert ban["message"] == "Abuse"
    assert ban["is_active"] is True
    assert ban["expires_at"] is None
    assert ban["created_by"] == "root"
    assert ip_ban_for("10.20.30.40") is not None
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.source, entry.target_repr) == ("ipban.create", "api", "10.0.0.0/8")


def test_an_ipv6_range_with_an_expiry_is_banned(client: Client, staff_key: str) -> None:
    expires = (timezone.now() + timedelta(days=1)).isoformat()
    response = call(
        client, "POST", BANS, staff_key, {"ip": "2001:DB8:1::/48", "expires_at": expires}
    )
    assert response.status_code == 201
    assert response.json()["ban"]["ip"] == "2001:db8:1::/48"
    assert ip_ban_for("2001:db8:1:ffff::1") is not None


@pytest.mark.parametrize(
    "ip", ["10.0.0.0/33", "10.0.0.256", "2001:db8::/129", "::/0", "not an ip", "", "1.2.3.4/x"]
)
def test_a_malformed_address_or_range_is_a_400(client: Client, staff_key: str, ip: str) -> None:
    response = call(client, "POST", BANS, staff_key, {"ip": ip})
    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400
    assert "ip" in body["error"]["fields"]
    assert not IpBan.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_range_covering_the_caller_is_refused(client: Client, staff_key: str) -> None:
    response = call(client, "POST", BANS, staff_key, {"ip": "127.0.0.0/8"})
    assert response.status_code == 400
    assert "your own address" in response.json()["error"]["message"]


def test_a_range_already_banned_is_refused(client: Client, staff_key: str) -> None:
    ip_ban_create(ip="10.0.0.0/8")
    response = call(client, "POST", BANS, staff_key, {"ip": "10.9.9.9/8"})
    assert response.status_code == 400
    assert "already banned" in response.json()["error"]["message"]


def test_an_expiry_in_the_past_and_unknown_fields_are_refused(
    client: Client, staff_key: str
) -> None:
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    assert (
        call(client, "POST", BANS, staff_key, {"ip": "192.0.2.1", "expires_at": past}).status_code
        == 400
    )
    assert (
        call(client, "POST", BANS, staff_key, {"ip": "192.0.2.1", "reason": "x"}).status_code == 400
    )
    assert call(client, "POST", BANS, staff_key, ["192.0.2.1"]).status_code == 400
    assert not IpBan.objects.exists()


def test_the_list_filters_by_text_and_by_state(client: Client, staff_key: str) -> None:
    live = ip_ban_create(ip="192.0.2.1", message="spammer")
    expired = ip_ban_create(ip="198.51.100.0/24", message="scraper")
    IpBan.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))

    everything = call(client, "GET", BANS, staff_key).json()
    assert [b["ip"] for b in everything["bans"]] == ["198.51.100.0/24", "192.0.2.1"]
    assert call(client, "GET", BANS + "?q=spam", staff_key).json()["bans"][0]["ip"] == live.ip
    active = call(client, "GET", BANS + "?active=1", staff_key).json()["bans"]
    assert [b["ip"] for b in active] == ["192.0.2.1"]
    gone = call(client, "GET", BANS + "?active=0", staff_key).json()["bans"]
    assert [(b["ip"], b["is_active"]) for b in gone] == [("198.51.100.0/24", False)]
    assert call(client, "GET", BANS + "?active=yes", staff_key).status_code == 400
    assert call(client, "GET", BANS + "?state=1", staff_key).status_code == 400


def test_the_list_is_cursor_paged(client: Client, staff_key: str) -> None:
    for n in range(3):
        ip_ban_create(ip=f"192.0.2.{n + 1}")
    first = call(client, "GET", BANS + "?per_page=2", staff_key).json()
    assert len(first["bans"]) == 2
    second = call(client, "GET", BANS + f"?per_page=2&cursor={first['cursor']}", staff_key).json()
    assert len(second["bans"]) == 1
    assert second["cursor"] is None
    seen = {b["ip"] for b in first["bans"] + second["bans"]}
    assert seen == {"192.0.2.1", "192.0.2.2", "192.0.2.3"}


def test_a_range_is_edited_by_its_cidr_in_the_path(client: Client, staff_key: str) -> None:
    ip_ban_create(ip="10.0.0.0/8", message="old")
    expires = (timezone.now() + timedelta(hours=2)).isoformat()
    # Any spelling of the range finds it: the host bits of 10.1.2.3/8 are cleared.
    response = call(
        client, "PATCH", BANS + "10.1.2.3/8/", staff_key, {"message": "new", "expires_at": expires}
    )
    assert response.status_code == 200
    ban = response.json()["ban"]
    assert (ban["ip"], ban["message"]) == ("10.0.0.0/8", "new")
    assert ban["expires_at"] is not None
    entry = AuditEntry.objects.get()
    assert entry.action == "ipban.update"
    assert entry.details["changed"] == ["expires_at", "message"]


def test_an_expiry_set_in_the_past_lifts_the_ban_and_null_makes_it_permanent(
    client: Client, staff_key: str
) -> None:
    ip_ban_create(ip="2001:db8::/32")
    past = (timezone.now() - timedelta(seconds=1)).isoformat()
    call(client, "PATCH", BANS + "2001:db8::/32/", staff_key, {"expires_at": past})
    assert ip_ban_for("2001:db8::1") is None
    response = call(client, "PATCH", BANS + "2001:db8::/32/", staff_key, {"expires_at": None})
    assert response.json()["ban"]["is_active"] is True
    assert ip_ban_for("2001:db8::1") is not None


def test_a_ban_is_lifted_by_its_address_and_the_lift_is_audited(
    client: Client, staff_key: str
) -> None:
    ip_ban_create(ip="192.0.2.7")
    response = call(client, "DELETE", BANS + "192.0.2.7/", staff_key)
    assert response.status_code == 200
    assert response.json() == {"deleted": "192.0.2.7"}
    assert ip_ban_for("192.0.2.7") is None
    assert not IpBan.objects.exists()
    assert AuditEntry.objects.get().action == "ipban.delete"


def test_an_unknown_ban_is_a_404_and_a_malformed_one_a_400(client: Client, staff_key: str) -> None:
    assert call(client, "DELETE", BANS + "192.0.2.99/", staff_key).status_code == 404
    assert (
        call(client, "PATCH", BANS + "10.0.0.0/8/", staff_key, {"message": "x"}).status_code == 404
    )
    malformed = call(client, "DELETE", BANS + "10.0.0.0/99/", staff_key)
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == 400
    assert not AuditEntry.objects.exists()


def test_users_and_guests_cannot_touch_bans(client: Client, api_key: str) -> None:
    ip_ban_create(ip="192.0.2.7")
    assert call(client, "GET", BANS, api_key).status_code == 403
    assert call(client, "POST", BANS, api_key, {"ip": "192.0.2.8"}).status_code == 403
    assert call(client, "DELETE", BANS + "192.0.2.7/", api_key).status_code == 403
    assert client.get(BANS).status_code == 401
    assert IpBan.objects.count() == 1
