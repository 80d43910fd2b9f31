"""IP bans: the address text, the lookup, expiry and the per-process cache."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from chevereto.core import bans
from chevereto.core.banmiddleware import BANNED_CODE, BANNED_MESSAGE
from chevereto.core.bans import (
    ip_ban_create,
    ip_ban_delete,
    ip_ban_for,
    ip_ban_update,
    network_normalize,
)
from chevereto.core.models import IpBan

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7/32", "203.0.113.7"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("2001:db8:abcd:1234::5/32", "2001:db8::/32"),
        ("2001:db8::1/128", "2001:db8::1"),
    ],
)
def test_an_address_or_range_has_one_spelling(text: str, expected: str) -> None:
    assert network_normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "10.0.0.0/33", "300.1.1.1", "10.0.0", "2001:db8::/129", "fe80::1%eth0",
     "10.0.0.0/8/8", "example.com", "10.0.0.0/-1", "0.0.0.0/0", "::/0", "10.0.0.1 /8"],
)  # fmt: skip
def test_malformed_addresses_and_ranges_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        network_normalize(text)
    assert caught.value.messages[0]


def test_a_banned_address_is_found_and_its_neighbour_is_not() -> None:
    ban = ip_ban_create(ip="203.0.113.7", message="Go away")
    assert ip_ban_for("203.0.113.7") == ban
    assert ip_ban_for("203.0.113.8") is None


def test_a_range_covers_every_address_inside_it_and_nothing_outside() -> None:
    ban = ip_ban_create(ip="10.1.2.3/8")
    assert ban.ip == "10.0.0.0/8"
    assert ip_ban_for("10.255.0.1") == ban
    assert ip_ban_for("11.0.0.1") is None


def test_an_ipv6_range_covers_its_addresses() -> None:
    ban = ip_ban_create(ip="2001:db8::/32")
    assert ip_ban_for("2001:db8:ffff::42") == ban
    assert ip_ban_for("2001:db9::1") is None
    assert ip_ban_for("10.0.0.1") is None


def test_an_ipv4_client_seen_through_a_dual_stack_socket_is_still_banned() -> None:
    ban = ip_ban_create(ip="198.51.100.0/24")
    assert ip_ban_for("::ffff:198.51.100.9") == ban


def test_the_narrowest_covering_ban_is_the_one_answered() -> None:
    ip_ban_create(ip="10.0.0.0/8", message="wide")
    narrow = ip_ban_create(ip="10.9.9.0/24", message="narrow")
    assert ip_ban_for("10.9.9.9") == narrow


def test_an_expired_ban_stops_applying_at_once_even_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expiry = timezone.now() + timedelta(hours=1)
    ban = ip_ban_create(ip="203.0.113.7", expires_at=expiry)
    assert ip_ban_for("203.0.113.7") == ban  # now cached
    # The clock passes the expiry with no write in between: the cached copy must not apply.
    monkeypatch.setattr(bans.timezone, "now", lambda: expiry + timedelta(seconds=1))
    assert ip_ban_for("203.0.113.7") is None


def test_a_new_ban_applies_from_the_next_lookup_despite_the_cache() -> None:
    assert ip_ban_for("203.0.113.7") is None  # the empty list is cached
    ip_ban_create(ip="203.0.113.0/24")
    assert ip_ban_for("203.0.113.7") is not None


def test_a_lifted_ban_stops_applying_from_the_next_lookup() -> None:
    ban = ip_ban_create(ip="203.0.113.7")
    assert ip_ban_for("203.0.113.7") is not None
    ip_ban_delete(ban=ban)
    assert ip_ban_for("203.0.113.7") is None


def test_editing_the_expiry_into_the_past_lifts_the_ban() -> None:
    ban = ip_ban_create(ip="203.0.113.7")
    ip_ban_update(ban=ban, expires_at=timezone.now() - timedelta(minutes=1))
    assert ip_ban_for("203.0.113.7") is None


def test_a_live_ban_cannot_be_created_twice_but_an_expired_one_is_renewed() -> None:
    ban = ip_ban_create(ip="203.0.113.7")
    with pytest.raises(ValidationError, match="already banned"):
        ip_ban_create(ip="203.0.113.7/32")
    IpBan.objects.filter(pk=ban.pk).update(expires_at=timezone.now() - timedelta(days=1))
    renewed = ip_ban_create(ip="203.0.113.7", message="again")
    assert renewed.pk == ban.pk
    assert renewed.message == "again"
    assert ip_ban_for("203.0.113.7") == renewed


def test_a_ban_cannot_expire_in_the_past_when_created() -> None:
    with pytest.raises(ValidationError, match="future"):
        ip_ban_create(ip="203.0.113.7", expires_at=timezone.now() - timedelta(minutes=1))
    assert not IpBan.objects.exists()


def test_text_that_is_no_address_is_never_banned() -> None:
    ip_ban_create(ip="10.0.0.0/8")
    assert ip_ban_for("") is None
    assert ip_ban_for("unknown") is None


# --- Every request from a banned address is refused (chevereto.core.banmiddleware) ---------

BANNED = "203.0.113.7"


def test_a_banned_address_gets_a_403_page_with_the_ban_message(client: Client) -> None:
    ip_ban_create(ip=BANNED, message="Spam from your network.")
    response = client.get("/", REMOTE_ADDR=BANNED)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'data-testid="banned"' in page
    assert "Spam from your network." in page
    assert response["Cache-Control"] == "no-store"


def test_other_addresses_are_served_as_usual(client: Client) -> None:
    ip_ban_create(ip=BANNED)
    assert client.get("/", REMOTE_ADDR="203.0.113.8").status_code == 200


def test_a_banned_address_gets_chevereto_s_error_on_api_v1(client: Client, api_key: str) -> None:
    ip_ban_create(ip=BANNED, message="Bye.")
    response = client.post(
        "/api/1/upload", {"source": "x"}, HTTP_X_API_KEY=api_key, REMOTE_ADDR=BANNED
    )
    assert response.status_code == 403
    body = response.json()
    assert body["status_code"] == 403
    assert body["error"]["code"] == BANNED_CODE
    assert body["error"]["message"] == f"{BANNED_MESSAGE} Bye."
    assert body["status_txt"] == "Forbidden"


def test_a_banned_address_gets_the_error_shape_on_api_v4(client: Client, api_key: str) -> None:
    ip_ban_create(ip=BANNED)
    response = client.get("/api/4/account/", HTTP_X_API_KEY=api_key, REMOTE_ADDR=BANNED)
    assert response.status_code == 403
    assert response.json()["error"] == {"message": BANNED_MESSAGE, "code": BANNED_CODE}


def test_a_banned_address_is_refused_before_sessions_keys_or_any_query(
    client: Client, api_key: str, django_assert_num_queries: Any
) -> None:
    ip_ban_create(ip=BANNED)
    client.get("/", REMOTE_ADDR=BANNED)  # warms the bans and settings caches
    with django_assert_num_queries(0):
        response = client.post("/login", {"username": "x"}, REMOTE_ADDR=BANNED)
        client.get("/api/4/account/", HTTP_X_API_KEY=api_key, REMOTE_ADDR=BANNED)
    assert response.status_code == 403  # not a CSRF failure: the ban answered first
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_static_files_stay_reachable_for_the_ban_page(client: Client) -> None:
    ip_ban_create(ip=BANNED)
    response = client.get("/static/css/site.css", REMOTE_ADDR=BANNED)
    assert response.status_code == 200


def test_an_ipv6_range_ban_refuses_its_addresses(client: Client) -> None:
    ip_ban_create(ip="2001:db8::/32")
    assert client.get("/", REMOTE_ADDR="2001:db8:1::5").status_code == 403
    assert client.get("/", REMOTE_ADDR="2001:db9::5").status_code == 200


def test_an_expired_ban_lets_the_address_back_in(client: Client) -> None:
    ban = ip_ban_create(ip=BANNED, expires_at=timezone.now() + timedelta(hours=1))
    assert client.get("/", REMOTE_ADDR=BANNED).status_code == 403
    ip_ban_update(ban=ban, expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/", REMOTE_ADDR=BANNED).status_code == 200


def test_a_spoofed_forwarded_header_does_not_lift_a_ban_on_the_real_address(
    client: Client, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    ip_ban_create(ip=BANNED)
    # Not a trusted proxy: its X-Forwarded-For is the client's own words.
    response = client.get("/", REMOTE_ADDR=BANNED, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code == 403


def test_a_spoofed_forwarded_header_cannot_get_someone_else_banned(
    client: Client, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    ip_ban_create(ip=BANNED)
    response = client.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=BANNED)
    assert response.status_code == 200


def test_a_trusted_proxy_s_forwarded_header_names_the_banned_client(
    client: Client, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    ip_ban_create(ip=BANNED)
    banned = client.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.1, {BANNED}")
    assert banned.status_code == 403
    # The proxy itself, and the other clients behind it, are not banned.
    other = client.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert other.status_code == 200


def test_without_trusted_proxies_the_forwarded_header_is_ignored(
    client: Client, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXIES = []
    ip_ban_create(ip=BANNED)
    response = client.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=BANNED)
    assert response.status_code == 200


def test_a_ban_written_by_another_process_applies_once_the_copy_is_stale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ip_ban_for(BANNED) is None  # cached: no bans
    # Another process's write drops its own copy, not this one: a bulk create stands in.
    IpBan.objects.bulk_create([IpBan(ip=BANNED)])
    assert ip_ban_for(BANNED) is None
    monkeypatch.setattr(bans, "CACHE_SECONDS", 0.0)
    assert ip_ban_for(BANNED) is not None
