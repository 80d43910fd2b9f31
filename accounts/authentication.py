"""API-key authentication shared by API V1 and API V4.

The key travels in the ``X-API-Key`` header, or as ``key`` in the query string or form
(Chevereto's legacy way, still used by ImgBB clients).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.services import InvalidApiKey, KeyIdentity, RevokedApiKey, api_key_authenticate
from accounts.throttle import KeysLockedOut, api_key_failed, api_key_lockout

HEADER = "HTTP_X_API_KEY"


def key_from_request(request: HttpRequest | Request) -> str | None:
    """The raw key the client sent, or None when it sent none.

    The form is read only when it is already parsed: reading it here would make every
    upload body go through the parser before the key is known to be good.
    """
    meta = request.META
    header = meta.get(HEADER)
    if header:
        return header.strip()
    query = request.GET.get("key")
    if query:
        return query.strip()
    django_request = request._request if isinstance(request, Request) else request
    if hasattr(django_request, "_post"):
        form_key = django_request.POST.get("key")
        if form_key:
            return form_key.strip()
    return None


def api_key_identify(*, request: HttpRequest | Request, raw: str) -> KeyIdentity:
    """`api_key_authenticate`, throttled per client address: an address that sent too
    many invalid keys gets KeysLockedOut before any key is looked up (so a valid key from
    it waits too), and each invalid key it sends counts. Both APIs call this."""
    lockout = api_key_lockout(request=request)  # type: ignore[arg-type]
    if lockout is not None:
        raise KeysLockedOut(lockout)
    try:
        return api_key_authenticate(raw=raw)
    except RevokedApiKey:
        # A revoked key, or a banned user's, still sent by its holder's client (a ShareX
        # set-up nobody updated): refused, but not counted, or it would lock everyone
        # behind the same address out of the API.
        raise
    except InvalidApiKey:
        api_key_failed(request=request)  # type: ignore[arg-type]
        raise


class ApiKeyThrottled(exceptions.Throttled):
    """429 with Retry-After (DRF's handler sets it from `wait`), in the APIs' error shape."""

    def __init__(self, locked: KeysLockedOut) -> None:
        # No `wait` to the constructor: it would append a second "try again" sentence.
        super().__init__(detail=locked.message)
        self.wait = locked.lockout.retry_after


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication: a valid key authenticates its user; the guest key, nobody."""

    keyword = "X-API-Key"

    def authenticate(self, request: Request) -> tuple[object, KeyIdentity] | None:
        raw = key_from_request(request)
        if raw is None:
            return None
        try:
            identity = api_key_identify(request=request, raw=raw)
        except KeysLockedOut as locked:
            raise ApiKeyThrottled(locked) from None
        except InvalidApiKey:
            raise exceptions.AuthenticationFailed("Invalid API V1 key.") from None
        user = identity.user if identity.user is not None else AnonymousUser()
        return (user, identity)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
