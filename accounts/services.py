"""Writes for accounts: API keys, the profile and its preferences."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import ApiKey, User
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id
from chevereto.core.models import SiteSettings

KEY_PREFIX = "chv_"
_SECRET_BYTES = 32
# last_used_at is a hint for the owner, not an audit log: writing it on every call would
# turn each API read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidApiKey(Exception):
    """The key is missing, malformed, unknown or revoked."""


class RevokedApiKey(InvalidApiKey):
    """A real key that no longer works: revoked, or its user is banned or deactivated.
    Only its holder can send it, so it is no guess (the key throttle leaves it alone)."""


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    key: str  # the full key: shown once, never stored


@dataclass(frozen=True)
class KeyIdentity:
    user: User | None  # None for the guest key
    api_key: ApiKey | None

    @property
    def is_guest(self) -> bool:
        return self.user is None


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def api_key_create(*, user: User) -> NewApiKey:
    """Revoke the user's live key, if any, and make a new one."""
    secret = secrets.token_hex(_SECRET_BYTES)
    with transaction.atomic():
        ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        api_key = ApiKey.objects.create(user=user, digest="", prefix="")
        key = f"{KEY_PREFIX}{encode_id(api_key.pk)}_{secret}"
        api_key.digest = digest_of(key)
        api_key.prefix = key[: key.rindex("_") + 5]
        api_key.save(update_fields=["digest", "prefix"])
    return NewApiKey(api_key=api_key, key=key)


def api_key_revoke(*, user: User) -> int:
    """Revoke the user's live key; returns how many were revoked (0 or 1)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _key_id(raw: str) -> int:
    if not raw.startswith(KEY_PREFIX):
        raise InvalidApiKey
    encoded, sep, secret = raw[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret:
        raise InvalidApiKey
    try:
        return decode_id(encoded)
    except InvalidEncodedId:
        raise InvalidApiKey from None


def api_key_authenticate(*, raw: str) -> KeyIdentity:
    """Who ``raw`` belongs to: a user's live key, or the site's guest key.

    The id inside the key finds the row by primary key; the digest comparison runs in
    constant time, so response timing says nothing about how much of a key was right.
    """
    if not raw or len(raw) > 200:
        raise InvalidApiKey
    site = SiteSettings.load()
    if site.guest_api_key and hmac.compare_digest(
        raw.encode("utf-8", "surrogatepass"), site.guest_api_key.encode()
    ):
        return KeyIdentity(user=None, api_key=None)
    key_id = _key_id(raw)
    api_key = _key_with_user(key_id)
    # Compare against a dummy digest when the row is missing, so unknown ids cost the same.
    expected = api_key.digest if api_key is not None else "0" * 64
    if not hmac.compare_digest(digest_of(raw), expected) or api_key is None:
        raise InvalidApiKey
    if api_key.revoked_at is not None or not api_key.user.is_active:
        raise RevokedApiKey
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return KeyIdentity(user=api_key.user, api_key=api_key)


@lru_cache(maxsize=1)
def _key_lookup_sql() -> tuple[str, list[str], list[str]]:
    """One hand-written query for key + user: this runs on every API call, and building
    it through the ORM costs more than running it. Only model metadata goes into the
    text; the key id is a bound parameter."""
    q = connection.ops.quote_name
    key_meta, user_meta = ApiKey._meta, User._meta
    columns = [f"k.{q(f.column)}" for f in key_meta.concrete_fields]
    columns += [f"u.{q(f.column)}" for f in user_meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)} "  # noqa: S608 - identifiers from model metadata
        f"FROM {q(key_meta.db_table)} k JOIN {q(user_meta.db_table)} u "
        f"ON u.{q(user_meta.pk.column)} = k.{q('user_id')} "
        f"WHERE k.{q(key_meta.pk.column)} = %s"
    )
    key_names = [f.attname for f in key_meta.concrete_fields]
    user_names = [f.attname for f in user_meta.concrete_fields]
    return sql, key_names, user_names


def _key_with_user(key_id: int) -> ApiKey | None:
    sql, key_names, user_names = _key_lookup_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    converters = connection.ops.get_db_converters
    values = list(row)
    fields = [*ApiKey._meta.concrete_fields, *User._meta.concrete_fields]
    for index, field in enumerate(fields):
        for convert in converters(field.get_col(field.model._meta.db_table)):
            values[index] = convert(values[index], field, connection)
    split = len(key_names)
    api_key = ApiKey.from_db(connection.alias, key_names, values[:split])
    api_key.user = User.from_db(connection.alias, user_names, values[split:])
    return api_key


def api_key_active(*, user: User) -> ApiKey | None:
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).first()


# -- profile ------------------------------------------------------------------------------

# What a user may change about their own profile and preferences, and nothing else: the
# username, counters, staff flags and profile images have services of their own.
PROFILE_FIELDS = frozenset(
    {"name", "bio", "website", "is_private", "show_nsfw", "timezone", "email"}
)
# Told to whoever asks for an address that is taken: the same words as for a malformed
# one would let a caller probe which addresses have accounts, so neither says which.
EMAIL_REFUSED = "This email cannot be used."


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# A profile's website: an http(s) link to a host name or address, with an optional port
# and path of printable ASCII. Only web links: a `javascript:` or `data:` URL on a profile
# page is a script. The API's schema states this same pattern, so what it allows is taken.
WEBSITE_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"
    # Path, query and fragment: the characters a URI allows (RFC 3986), %XX escapes.
    r"(?:[/?#](?:[A-Za-z0-9._~:/?#@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)?$"
)
_WEBSITE = re.compile(WEBSITE_PATTERN)


def _website_error(value: str) -> str | None:
    if not _WEBSITE.fullmatch(value):
        return "Enter a valid http(s) URL."
    return None


def _profile_errors(user: User, fields: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value in fields.items():
        if name not in PROFILE_FIELDS:
            errors[name] = "This field cannot be changed here."
        elif name in {"is_private", "show_nsfw"}:
            if not isinstance(value, bool):
                errors[name] = "Must be true or false."
        elif not isinstance(value, str):
            errors[name] = "Must be a string."
    for name, limit in (("name", 60), ("bio", 500), ("website", 200), ("timezone", 64)):
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            errors[name] = f"At most {limit} characters."
    website = fields.get("website")
    if isinstance(website, str) and website and "website" not in errors:
        problem = _website_error(website)
        if problem:
            errors["website"] = problem
    zone = fields.get("timezone")
    if isinstance(zone, str) and zone and zone not in _known_timezones():
        errors["timezone"] = "Not a known IANA time zone (e.g. Europe/Madrid), or empty."
    email = fields.get("email")
    if isinstance(email, str) and "email" not in errors:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = EMAIL_REFUSED
        else:
            taken = User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
            if taken:
                errors["email"] = EMAIL_REFUSED
    return errors


def user_profile_update(*, user: User, **fields: Any) -> User:
    """Change the user's profile and preferences (see PROFILE_FIELDS); all or nothing.

    Strings are stripped; every rule is checked before anything is written, and a
    ValidationError names each field that broke one.
    """
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    errors = _profile_errors(user, fields)
    if errors:
        raise DjangoValidationError(errors)
    if not fields:
        return user
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=sorted(fields))
    return user


# -- password -----------------------------------------------------------------------------

CURRENT_PASSWORD_WRONG = "That is not your current password."


def user_password_set(*, user: User, new_password: str) -> User:
    """Give the user a new password (the caller checked who asks: the user proving the
    current one, or an admin). Saving it revokes the user's API keys and ends the user's
    other sessions (User.save); a caller with a session of that user keeps it with
    `update_session_auth_hash`."""
    try:
        validate_password(new_password, user=user)
    except DjangoValidationError as exc:
        raise DjangoValidationError({"password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user
