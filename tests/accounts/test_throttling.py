"""Password and API-key guessing is throttled per address and per account (accounts.throttle)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import throttle
from accounts.models import User
from accounts.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db

PASSWORD = "Right-pass-42"


@pytest.fixture(autouse=True)
def _small_limits(settings: LazySettings) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    settings.API_KEY_FAILURES_PER_ADDRESS = 3
    settings.THROTTLE_WINDOW = 900
    settings.THROTTLE_LOCKOUT = 60
    settings.THROTTLE_LOCKOUT_MAX = 900
    # A fast hasher: these tests make dozens of logins.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(throttle, "_now", fake)
    yield fake


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user(username="carol", email="carol@example.com", password=PASSWORD)


def _login(client: Client, username: str, password: str, *, ip: str = "203.0.113.7") -> object:
    return client.post("/login", {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client: Client, username: str, times: int, *, ip: str = "203.0.113.7") -> list[int]:
    return [_login(client, username, "wrong-guess", ip=ip).status_code for _ in range(times)]


def test_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused_too(
    client: Client, carol: User
) -> None:
    assert _fail(client, "carol", 3) == [200, 200, 200]
    locked = _login(client, "carol", "wrong-guess")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 60
    assert "Too many failed logins" in locked.content.decode()
    right = _login(client, "carol", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_names_the_account_in_any_case_and_from_any_address(
    client: Client, carol: User
) -> None:
    _fail(client, "carol", 3, ip="198.51.100.1")
    assert _login(client, "CAROL", PASSWORD, ip="198.51.100.99").status_code == 429


def test_an_unknown_username_is_throttled_exactly_like_a_real_one(
    client: Client, carol: User, clock: Clock
) -> None:
    real = [*_fail(client, "carol", 4, ip="198.51.100.1")]
    unknown = [*_fail(client, "nobody_here", 4, ip="198.51.100.2")]
    assert real == unknown == [200, 200, 200, 429]
    real_wait = _login(client, "carol", "x", ip="198.51.100.1")["Retry-After"]
    unknown_wait = _login(client, "nobody_here", "x", ip="198.51.100.2")["Retry-After"]
    assert real_wait == unknown_wait == "60"


def test_the_lockout_ends_after_its_time_and_doubles_with_each_further_failure(
    client: Client, carol: User, clock: Clock
) -> None:
    _fail(client, "carol", 4)
    assert _login(client, "carol", "x")["Retry-After"] == "60"
    clock.now += 61
    assert _fail(client, "carol", 1) == [200]  # checked, wrong, and locked for longer
    assert _login(client, "carol", PASSWORD)["Retry-After"] == "120"
    clock.now += 121
    _fail(client, "carol", 1)
    assert _login(client, "carol", PASSWORD)["Retry-After"] == "240"
    clock.now += 241
    assert _login(client, "carol", PASSWORD).status_code == 302


def test_the_lockout_never_exceeds_its_maximum(
    client: Client, carol: User, clock: Clock, settings: LazySettings
) -> None:
    settings.THROTTLE_LOCKOUT_MAX = 100
    for _ in range(6):
        _fail(client, "carol", 1)
        clock.now += 1000
    _fail(client, "carol", 1)
    assert _login(client, "carol", "x")["Retry-After"] == "100"


def test_a_successful_login_clears_the_account_count(client: Client, carol: User) -> None:
    _fail(client, "carol", 2)
    assert _login(client, "carol", PASSWORD).status_code == 302
    client.post("/logout")
    assert _fail(client, "carol", 3) == [200, 200, 200]


def test_one_address_guessing_many_usernames_is_locked_out(client: Client, carol: User) -> None:
    for index in range(8):
        assert _login(client, f"user_{index}", "x").status_code == 200
    assert _login(client, "carol", PASSWORD).status_code == 429
    # Another address is not held back by that one's guesses.
    assert _login(client, "carol", PASSWORD, ip="198.51.100.50").status_code == 302


def test_a_successful_login_does_not_clear_the_address_count(client: Client, carol: User) -> None:
    for index in range(7):
        _login(client, f"user_{index}", "x")
    assert _login(client, "carol", PASSWORD).status_code == 302
    client.post("/logout")
    _login(client, "user_x", "x")
    assert _login(client, "user_y", "x").status_code == 429


def test_ipv6_addresses_of_one_network_share_a_count(client: Client, carol: User) -> None:
    for index in range(8):
        _login(client, f"user_{index}", "x", ip=f"2001:db8:1:2::{index + 1:x}")
    assert _login(client, "carol", PASSWORD, ip="2001:db8:1:2::ff").status_code == 429


def test_the_address_comes_from_the_trusted_proxy_rules(
    client: Client, carol: User, settings: LazySettings
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for index in range(8):
        client.post(
            "/login",
            {"username": f"user_{index}", "password": "x"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="192.0.2.44",
        )
    behind_same_proxy = client.post(
        "/login",
        {"username": "carol", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.45",
    )
    assert behind_same_proxy.status_code == 302


def test_the_dashboard_login_is_throttled_too(client: Client, db: None) -> None:
    User.objects.create_superuser(username="boss", email="boss@example.com", password=PASSWORD)
    for _ in range(3):
        client.post("/dashboard/login/", {"username": "boss", "password": "x"})
    locked = client.post("/dashboard/login/", {"username": "boss", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_dashboard_and_the_site_login_share_one_count(client: Client, carol: User) -> None:
    for _ in range(3):
        client.post("/dashboard/login/", {"username": "carol", "password": "x"})
    assert _login(client, "carol", PASSWORD).status_code == 429


# -- API keys -------------------------------------------------------------------------------

WRONG_KEY = "chv_zz_" + "0" * 64


def _v1(client: Client, *, key: str, ip: str, where: str = "header") -> object:
    data = {"source": "https://example.invalid/x.png"}
    if where == "header":
        return client.post("/api/1/upload", data, HTTP_X_API_KEY=key, REMOTE_ADDR=ip)
    return client.post(f"/api/1/upload?key={key}", data, REMOTE_ADDR=ip)


def test_wrong_api_keys_lock_the_address_out_of_api_v1_in_cheveretos_error_shape(
    client: Client, api_key: str
) -> None:
    ip = "203.0.113.9"
    statuses = [_v1(client, key=WRONG_KEY, ip=ip).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    locked = _v1(client, key=api_key, ip=ip, where="query")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 60
    body = locked.json()
    assert body["status_code"] == 429 and body["status_txt"] == "Too Many Requests"
    assert body["error"]["code"] == 429
    assert "Too many invalid API keys" in body["error"]["message"]


def test_a_revoked_key_or_a_banned_users_key_is_refused_without_locking_the_address(
    client: Client, user: User, api_key: str
) -> None:
    from accounts.bans import user_ban

    ip = "203.0.113.20"
    other = api_key_create(user=User.objects.create_user(username="dora", password="x")).key
    api_key_revoke(user=user)
    assert [_v1(client, key=api_key, ip=ip).status_code for _ in range(5)] == [401] * 5
    user_ban(user=User.objects.get(username="dora"))
    assert [_v1(client, key=other, ip=ip).status_code for _ in range(5)] == [401] * 5
    # Neither counted as a guess: a colleague behind the same address still gets in.
    colleague = api_key_create(user=User.objects.create_user(username="erin", password="x")).key
    response = client.get("/api/4/account/", HTTP_X_API_KEY=colleague, REMOTE_ADDR=ip)
    assert response.status_code == 200


def test_a_locked_address_is_refused_before_any_key_lookup(client: Client, api_key: str) -> None:
    for _ in range(3):
        _v1(client, key=WRONG_KEY, ip="203.0.113.9")
    with CaptureQueriesContext(connection) as queries:
        assert _v1(client, key=api_key, ip="203.0.113.9").status_code == 429
    assert not any("accounts_apikey" in query["sql"] for query in queries.captured_queries)


def test_wrong_keys_in_the_query_and_the_form_count_too(client: Client, api_key: str) -> None:
    ip = "203.0.113.10"
    _v1(client, key=WRONG_KEY, ip=ip, where="query")
    client.post("/api/1/upload", {"key": WRONG_KEY, "source": "x"}, REMOTE_ADDR=ip)
    _v1(client, key=WRONG_KEY, ip=ip)
    assert _v1(client, key=api_key, ip=ip).status_code == 429


def test_valid_keys_from_other_addresses_are_unaffected(client: Client, api_key: str) -> None:
    for _ in range(5):
        _v1(client, key=WRONG_KEY, ip="203.0.113.11")
    response = client.get("/api/4/account/", HTTP_X_API_KEY=api_key, REMOTE_ADDR="203.0.113.12")
    assert response.status_code == 200


def test_wrong_api_keys_lock_the_address_out_of_api_v4_too(
    client: Client, user: User, other_user: User
) -> None:
    ip = "203.0.113.13"
    for _ in range(3):
        refused = client.get("/api/4/account/", HTTP_X_API_KEY=WRONG_KEY, REMOTE_ADDR=ip)
        assert refused.status_code == 401
    valid = api_key_create(user=other_user).key
    locked = client.get(f"/api/4/account/?key={valid}", REMOTE_ADDR=ip)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    body = locked.json()
    assert body["status_code"] == 429 and body["error"]["code"] == 429
    assert body["error"]["message"].startswith("Too many invalid API keys from your address.")


def test_v1_and_v4_share_the_address_count(client: Client, api_key: str) -> None:
    ip = "203.0.113.14"
    _v1(client, key=WRONG_KEY, ip=ip)
    client.get("/api/4/account/", HTTP_X_API_KEY=WRONG_KEY, REMOTE_ADDR=ip)
    _v1(client, key=WRONG_KEY, ip=ip)
    assert client.get("/api/4/account/", HTTP_X_API_KEY=api_key, REMOTE_ADDR=ip).status_code == 429


def test_valid_keys_never_count(client: Client, api_key: str) -> None:
    for _ in range(6):
        response = client.get("/api/4/account/", HTTP_X_API_KEY=api_key, REMOTE_ADDR="203.0.113.15")
        assert response.status_code == 200


# -- other places that take a password or send mail -------------------------------------------


def test_guessing_the_current_password_on_the_settings_page_is_throttled(
    client: Client, carol: User
) -> None:
    client.force_login(carol)
    new = {"new_password1": "Brand-new-pass-77", "new_password2": "Brand-new-pass-77"}
    statuses = [
        client.post("/settings/password", {"old_password": "guess", **new}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 400]
    locked = client.post("/settings/password", {"old_password": PASSWORD, **new})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "Too many failed attempts" in locked.content.decode()
    carol.refresh_from_db()
    assert carol.check_password(PASSWORD)


def test_guessing_the_current_password_to_change_the_email_is_throttled(
    client: Client, carol: User
) -> None:
    client.force_login(carol)
    before = carol.email
    form = {"account-email": "thief@example.com"}
    statuses = [
        client.post("/settings/account", {**form, "account-password": "guess"}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 400]
    locked = client.post("/settings/account", {**form, "account-password": PASSWORD})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "Too many failed attempts" in locked.content.decode()
    carol.refresh_from_db()
    assert carol.email == before


def test_signups_from_one_address_are_limited_so_nobody_floods_an_inbox(
    client: Client, carol: User, settings: LazySettings
) -> None:
    settings.SIGNUP_EMAILS_PER_ADDRESS = 2

    def signup(index: int, ip: str = "203.0.113.30") -> object:
        return client.post(
            "/signup",
            {
                "username": f"new_{index}",
                "email": "carol@example.com",
                "password1": "Tricky-pass-42",
                "password2": "Tricky-pass-42",
            },
            REMOTE_ADDR=ip,
        )

    assert [signup(i).status_code for i in range(3)] == [200, 200, 429]
    assert len(mail.outbox) == 2
    assert "Too many signups" in signup(9).content.decode()
    assert signup(10, ip="203.0.113.31").status_code == 200
