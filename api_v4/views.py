"""API V4: the headless REST API. Account first; more areas follow."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from api_v4.schema import error_responses


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
