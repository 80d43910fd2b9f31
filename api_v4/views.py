"""API V4: the caller's own account (`user/account/...`): profile, preferences, API key."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, User
from accounts.services import (
    CURRENT_PASSWORD_WRONG,
    EMAIL_REFUSED,
    WEBSITE_PATTERN,
    api_key_active,
    api_key_create,
    api_key_revoke,
    user_password_set,
    user_profile_update,
)
from accounts.throttle import login_failed, login_lockout
from api_v4.base import IsSiteUser, StrictBooleanField, refuse_unknown_fields, strict_query
from api_v4.schema import closed_body, error_responses
from api_v4.serializers import UserSerializer
from uploads.representation import user_representation


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("username", "email", "name", "bio", "website", "is_private", "date_joined")
        read_only_fields = ("username", "date_joined")


class AccountView(APIView):
    """The account of the key's (or the session's) user."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={200: AccountSerializer, **error_responses(401, 403)},
        summary="Your account",
    )
    def get(self, request: Request) -> Response:
        return Response(AccountSerializer(request.user).data)


# -- profile and preferences -------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string and only a string: DRF's CharField would take 5 or 5.0 as "5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _timezone_choices() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@closed_body
class AccountSettingsSerializer(serializers.Serializer):
    """What PATCH user/account/settings/ takes; every field is optional. Lengths count as
    sent: the service drops surrounding spaces afterwards."""

    name = StrictCharField(required=False, allow_blank=True, max_length=60, trim_whitespace=False)
    bio = StrictCharField(required=False, allow_blank=True, max_length=500, trim_whitespace=False)
    website = serializers.RegexField(
        # The service's pattern, or empty (which clears the website).
        rf"^(?:{WEBSITE_PATTERN.removeprefix('^').removesuffix('$')})?$",
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="An http(s) URL, or empty",
    )
    is_private = StrictBooleanField(
        required=False, help_text="Hide the profile and what hangs off it from others"
    )
    show_nsfw = StrictBooleanField(required=False, help_text="Show uploads marked NSFW in listings")
    timezone = serializers.ChoiceField(
        choices=_timezone_choices(),
        required=False,
        allow_blank=True,
        help_text="An IANA zone (Europe/Madrid), or empty for the site's",
    )
    # A malformed address is told the same words as a taken one (no account probing).
    email = serializers.EmailField(
        required=False,
        max_length=254,
        trim_whitespace=False,
        error_messages={"invalid": EMAIL_REFUSED},
    )
    password = StrictCharField(
        required=False,
        max_length=128,
        trim_whitespace=False,
        help_text=(
            "A new password; needs current_password. Your API keys are revoked and your "
            "other sessions end (this one stays if it is a session)"
        ),
    )
    current_password = StrictCharField(
        required=False, max_length=128, trim_whitespace=False, help_text="Needed with password"
    )


class AccountUserSerializer(UserSerializer):
    """The public profile plus what only its owner sees."""

    email = serializers.EmailField()
    show_nsfw = serializers.IntegerField()
    timezone = serializers.CharField(allow_blank=True)


class AccountUserBodySerializer(serializers.Serializer):
    user = AccountUserSerializer()


def account_representation(user: User, request: Request) -> dict[str, object]:
    return {
        **user_representation(user, request),
        "email": user.email,
        "show_nsfw": int(user.show_nsfw),
        "timezone": user.timezone,
    }


class AccountSettingsView(APIView):
    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="api_v4_user_account_settings_update",
        summary="Change your profile and preferences",
        request=AccountSettingsSerializer,
        responses={200: AccountUserBodySerializer, **error_responses(400, 401, 403, 429)},
    )
    def patch(self, request: Request) -> Response:
        strict_query(request, ())
        if not hasattr(request.data, "keys"):
            raise exceptions.ValidationError({"body": "A JSON object or a form."})
        refuse_unknown_fields(request.data, AccountSettingsSerializer().fields)
        incoming = AccountSettingsSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        fields = dict(incoming.validated_data)
        new_password = fields.pop("password", None)
        current_password = fields.pop("current_password", None)
        user = request.user
        if new_password is not None:
            self._prove_current_password(request, current_password)
        try:
            with transaction.atomic():
                user = user_profile_update(user=user, **fields)
                if new_password is not None:
                    user = user_password_set(user=user, new_password=new_password)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        if new_password is not None and request.auth is None:
            # A session, not a key: it stays logged in (the key, if one was used, is revoked).
            update_session_auth_hash(request._request, user)
        return Response({"user": account_representation(user, request)})

    def _prove_current_password(self, request: Request, current: str | None) -> None:
        """Outside any transaction: a wrong guess must stay counted. Guessing the current
        password here is a login guess, and the login throttle counts it."""
        user = request.user
        if current is None:
            raise exceptions.ValidationError({"current_password": "Needed to change password."})
        lockout = login_lockout(request=request, username=user.username)
        if lockout is not None:
            raise exceptions.Throttled(wait=lockout.retry_after)
        if not user.check_password(current):
            login_failed(request=request, username=user.username)
            raise exceptions.ValidationError({"current_password": CURRENT_PASSWORD_WRONG})


# -- API key -----------------------------------------------------------------------------


class ApiKeyInfoSerializer(serializers.Serializer):
    prefix = serializers.CharField(help_text="The public start of the key, to tell keys apart")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ApiKeyBodySerializer(serializers.Serializer):
    api_key = ApiKeyInfoSerializer(allow_null=True, help_text="The live key, or null")


class NewApiKeySerializer(ApiKeyInfoSerializer):
    key = serializers.CharField(help_text="The whole key: shown this once, never again")


class NewApiKeyBodySerializer(serializers.Serializer):
    api_key = NewApiKeySerializer()


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.BooleanField(help_text="Whether there was a live key to revoke")


def _key_info(api_key: ApiKey) -> dict[str, object]:
    return {
        "prefix": api_key.prefix,
        "created_at": serializers.DateTimeField().to_representation(api_key.created_at),
        "last_used_at": serializers.DateTimeField().to_representation(api_key.last_used_at)
        if api_key.last_used_at
        else None,
    }


class ApiKeyView(APIView):
    """The caller's API key: one live key at a time, shown in full only when made."""

    permission_classes = [IsSiteUser]

    @extend_schema(
        operation_id="api_v4_user_account_api_key_show",
        summary="Your live API key (its prefix, never the key)",
        responses={200: ApiKeyBodySerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, ())
        api_key = api_key_active(user=request.user)
        return Response({"api_key": _key_info(api_key) if api_key else None})

    @extend_schema(
        operation_id="api_v4_user_account_api_key_rotate",
        summary="Make a new API key (the live one stops working)",
        request=None,
        responses={
            201: OpenApiResponse(NewApiKeyBodySerializer, description="The new key, once"),
            **error_responses(400, 401, 403),
        },
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        made = api_key_create(user=request.user)
        return Response({"api_key": {**_key_info(made.api_key), "key": made.key}}, status=201)

    @extend_schema(
        operation_id="api_v4_user_account_api_key_revoke",
        summary="Revoke your API key",
        request=None,
        responses={200: RevokedSerializer, **error_responses(400, 401, 403)},
    )
    def delete(self, request: Request) -> Response:
        strict_query(request, ())
        return Response({"revoked": api_key_revoke(user=request.user) > 0})
