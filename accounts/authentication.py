"""API-key authentication shared by API V1 and API V4.

The key travels in the ``X-API-Key`` header, or as ``key`` in the query string or form
(Chevereto's legacy way, still used by ImgBB clients).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.services import InvalidApiKey, KeyIdentity, api_key_authenticate

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


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication: a valid key authenticates its user; the guest key, nobody."""

    keyword = "X-API-Key"

    def authenticate(self, request: Request) -> tuple[object, KeyIdentity] | None:
        raw = key_from_request(request)
        if raw is None:
            return None
        try:
            identity = api_key_authenticate(raw=raw)
        except InvalidApiKey:
            raise exceptions.AuthenticationFailed("Invalid API V1 key.") from None
        user = identity.user if identity.user is not None else AnonymousUser()
        return (user, identity)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
