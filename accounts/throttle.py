"""Throttling of password guesses and API-key guesses, per client address and per account.

Each subject (an address, or the username someone tried) has a failure counter in the
shared cache (settings.CACHES: Redis, or the database). The failure that reaches the
subject's limit locks it out for THROTTLE_LOCKOUT seconds, and every failure after that
lockout for twice as long as the one before (2×, 4×, … up to THROTTLE_LOCKOUT_MAX).
During a lockout the attempt is refused before any password is checked or any key is
looked up, so the right password is refused too: a lockout that the right guess could
pass would tell the guesser it was right.

The account counter is keyed by the username as typed (folded to lower case), whether or
not such a user exists: an unknown name is throttled exactly like a real one, so neither
the lockout nor its absence says who has an account. A counter forgets a subject
THROTTLE_WINDOW seconds after its last failure (plus the lockout then running); a
successful login clears the account's counter, never the address's (else logging into
one's own account between guesses would wipe the address's record).

Counting is atomic on Redis (INCR). The database cache reads then writes, so failures sent
at the same instant may be counted once: a burst of N parallel guesses gets at most N-1
past the limit before the lockout holds.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from chevereto.core.clientip import client_ip

LOGIN_SCOPE = "login"
API_KEY_SCOPE = "apikey"
SIGNUP_SCOPE = "signup"


@dataclass(frozen=True)
class Lockout:
    """Attempts are refused for `retry_after` more seconds."""

    retry_after: int

    @property
    def wait_text(self) -> str:
        if self.retry_after < 120:
            return f"{self.retry_after} seconds"
        return f"{math.ceil(self.retry_after / 60)} minutes"


class KeysLockedOut(Exception):
    """This address sent too many invalid API keys: no key is looked up until it waits."""

    def __init__(self, lockout: Lockout) -> None:
        super().__init__(lockout.retry_after)
        self.lockout = lockout

    @property
    def message(self) -> str:
        return (
            f"Too many invalid API keys from your address. Try again in {self.lockout.wait_text}."
        )


def address_of(request: HttpRequest) -> str:
    """The client address as the trusted-proxy rules resolve it; IPv6 by its /64, since
    one host is handed a whole /64 and could otherwise rotate addresses within it."""
    raw = client_ip(request)
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _now() -> float:
    return time.time()


def _key(scope: str, kind: str, value: str, part: str) -> str:
    # Hashed: cache keys stay short and printable, and the store holds no usernames.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"throttle:{scope}:{kind}:{digest}:{part}"


@dataclass(frozen=True)
class _Subject:
    scope: str
    kind: str  # "addr" or "acct"
    value: str
    limit: int

    @property
    def failures_key(self) -> str:
        return _key(self.scope, self.kind, self.value, "n")

    @property
    def lock_key(self) -> str:
        return _key(self.scope, self.kind, self.value, "until")


def _lockout_seconds(failures: int, limit: int) -> int:
    """The `limit`-th failure locks for the base lockout; each one after it, twice the last."""
    over = failures - limit
    if over < 0:
        return 0
    base, ceiling = settings.THROTTLE_LOCKOUT, settings.THROTTLE_LOCKOUT_MAX
    # Capped exponent: 2**1000 would be a needlessly huge integer.
    return min(base * 2 ** min(over, 32), ceiling)


def _bump(key: str, timeout: int) -> int:
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the add and the incr
        cache.set(key, 1, timeout)
        return 1


def _lockout(subjects: list[_Subject]) -> Lockout | None:
    locks = cache.get_many([subject.lock_key for subject in subjects])
    now = _now()
    remaining = max((until - now for until in locks.values()), default=0.0)
    if remaining <= 0:
        return None
    return Lockout(retry_after=max(1, math.ceil(remaining)))


def _fail(subjects: list[_Subject]) -> None:
    window = settings.THROTTLE_WINDOW
    for subject in subjects:
        failures = _bump(subject.failures_key, window)
        lock = _lockout_seconds(failures, subject.limit)
        # The counter outlives the lockout, so the next failure after it escalates.
        cache.touch(subject.failures_key, window + lock)
        if lock:
            cache.set(subject.lock_key, _now() + lock, lock)


# -- logins ---------------------------------------------------------------------------------


def _account_name(username: str) -> str:
    return username.strip().lower()[:200]


def _login_subjects(request: HttpRequest, username: str) -> list[_Subject]:
    subjects = [
        _Subject(LOGIN_SCOPE, "addr", address_of(request), settings.LOGIN_FAILURES_PER_ADDRESS)
    ]
    name = _account_name(username)
    if name:
        subjects.append(_Subject(LOGIN_SCOPE, "acct", name, settings.LOGIN_FAILURES_PER_ACCOUNT))
    return subjects


def login_lockout(*, request: HttpRequest, username: str) -> Lockout | None:
    """Is a login as `username` from this request's address refused for now?"""
    return _lockout(_login_subjects(request, username))


def login_failed(*, request: HttpRequest, username: str) -> None:
    _fail(_login_subjects(request, username))


def login_succeeded(*, username: str) -> None:
    name = _account_name(username)
    if name:
        subject = _Subject(LOGIN_SCOPE, "acct", name, settings.LOGIN_FAILURES_PER_ACCOUNT)
        cache.delete(subject.failures_key)


# -- API keys -------------------------------------------------------------------------------


def _key_subjects(request: HttpRequest) -> list[_Subject]:
    return [
        _Subject(API_KEY_SCOPE, "addr", address_of(request), settings.API_KEY_FAILURES_PER_ADDRESS)
    ]


def api_key_lockout(*, request: HttpRequest) -> Lockout | None:
    return _lockout(_key_subjects(request))


def api_key_failed(*, request: HttpRequest) -> None:
    _fail(_key_subjects(request))


# -- signup emails --------------------------------------------------------------------------
# Each signup mails the address typed (a link, or a notice to its owner): counted per client
# address, so that the form cannot be used to flood someone's inbox.


def _signup_subjects(request: HttpRequest) -> list[_Subject]:
    return [_Subject(SIGNUP_SCOPE, "addr", address_of(request), settings.SIGNUP_EMAILS_PER_ADDRESS)]


def signup_lockout(*, request: HttpRequest) -> Lockout | None:
    return _lockout(_signup_subjects(request))


def signup_emailed(*, request: HttpRequest) -> None:
    _fail(_signup_subjects(request))
