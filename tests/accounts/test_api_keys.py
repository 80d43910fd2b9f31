from __future__ import annotations

import hashlib
import re
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import services
from accounts.models import ApiKey, User
from accounts.services import InvalidApiKey, api_key_authenticate, api_key_create, api_key_revoke
from chevereto.core.encoding import encode_id
from chevereto.core.models import SiteSettings

pytestmark = pytest.mark.django_db


def test_a_new_key_has_chevereto_format_and_only_its_digest_is_stored(user: User) -> None:
    new = api_key_create(user=user)
    assert re.fullmatch(r"chv_[A-Za-z0-9]+_[0-9a-f]{64}", new.key)
    assert new.key.split("_")[1] == encode_id(new.api_key.pk)
    row = ApiKey.objects.get(pk=new.api_key.pk)
    assert row.digest == hashlib.sha256(new.key.encode()).hexdigest()
    assert new.key not in {row.digest, row.prefix}
    assert new.key.startswith(row.prefix) and len(row.prefix) < 30


def test_a_key_finds_its_user_and_records_when_it_was_used(user: User) -> None:
    new = api_key_create(user=user)
    identity = api_key_authenticate(raw=new.key)
    assert identity.user == user and not identity.is_guest
    assert ApiKey.objects.get(pk=new.api_key.pk).last_used_at is not None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "nope",
        "chv_",
        "chv__abc",
        "chv_!!_abc",
        "chv_zzzzzz_" + "0" * 64,
        "x" * 500,
        # Its id part decodes past a 64-bit integer: refused, not a database overflow.
        "chv_iHT1CA6SguPhO_abc",
        "chv_ZZZZZZZZZZZZZZZZZZZZ_abc",
    ],
)
def test_malformed_or_unknown_keys_are_refused(user: User, raw: str) -> None:
    api_key_create(user=user)
    with pytest.raises(InvalidApiKey):
        api_key_authenticate(raw=raw)


def test_a_key_with_a_right_id_but_wrong_secret_is_refused(user: User) -> None:
    new = api_key_create(user=user)
    tampered = new.key[:-1] + ("0" if new.key[-1] != "0" else "1")
    with pytest.raises(InvalidApiKey):
        api_key_authenticate(raw=tampered)


def test_a_revoked_key_stops_working(user: User) -> None:
    new = api_key_create(user=user)
    assert api_key_revoke(user=user) == 1
    with pytest.raises(InvalidApiKey):
        api_key_authenticate(raw=new.key)


def test_regenerating_revokes_the_old_key(user: User) -> None:
    old = api_key_create(user=user)
    new = api_key_create(user=user)
    assert ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    with pytest.raises(InvalidApiKey):
        api_key_authenticate(raw=old.key)
    assert api_key_authenticate(raw=new.key).user == user


def test_a_deactivated_user_key_is_refused(user: User) -> None:
    new = api_key_create(user=user)
    user.is_active = False
    user.save()
    with pytest.raises(InvalidApiKey):
        api_key_authenticate(raw=new.key)


def test_the_guest_key_authenticates_nobody() -> None:
    identity = api_key_authenticate(raw=SiteSettings.load().guest_api_key)
    assert identity.is_guest and identity.user is None


def test_digests_are_compared_in_constant_time(user: User) -> None:
    new = api_key_create(user=user)
    with mock.patch.object(
        services.hmac, "compare_digest", wraps=services.hmac.compare_digest
    ) as spy:
        api_key_authenticate(raw=new.key)
    compared = [call.args for call in spy.call_args_list]
    assert (hashlib.sha256(new.key.encode()).hexdigest(), new.api_key.digest) in compared


def test_an_unknown_key_id_still_costs_a_digest_comparison(user: User) -> None:
    with (
        mock.patch.object(
            services.hmac, "compare_digest", wraps=services.hmac.compare_digest
        ) as spy,
        pytest.raises(InvalidApiKey),
    ):
        api_key_authenticate(raw="chv_" + encode_id(999999) + "_" + "a" * 64)
    assert any(call.args[1] == "0" * 64 for call in spy.call_args_list)


def test_the_command_prints_only_the_new_key(
    user: User, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_api_key", "alice")
    printed = capsys.readouterr().out.strip()
    assert re.fullmatch(r"chv_[A-Za-z0-9]+_[0-9a-f]{64}", printed)
    assert api_key_authenticate(raw=printed).user == user


def test_the_command_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_api_key", "nobody")


def test_ensure_admin_creates_one_admin_only_once(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("ensure_admin")
    first = capsys.readouterr().out
    assert "Created admin account 'admin' with password" in first
    call_command("ensure_admin")
    assert "exists" in capsys.readouterr().out
    assert User.objects.filter(is_superuser=True).count() == 1
