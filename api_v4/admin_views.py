"""API V4 admin routes (`/api/4/admin/...`), staff only. The id tools for now."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.schema import error_responses
from chevereto.core.encoding import InvalidEncodedId, decode_id, encode_id


class IdPairSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    id_encoded = serializers.CharField()


_ERRORS = error_responses(400, 401, 403)


class IdEncodeView(APIView):
    """The public `id_encoded` of a database id, as this site's salt and padding make it."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="Database id")],
        responses={200: IdPairSerializer, **_ERRORS},
        summary="Encode an id",
    )
    def get(self, request: Request, id: str) -> Response:
        # The path takes any text so that a malformed id is a 400 that says why, not a 404.
        if not id.isascii() or not id.isdigit():
            raise exceptions.ValidationError("The id must be a positive integer.")
        try:
            encoded = encode_id(int(id))
        except ValueError:
            raise exceptions.ValidationError("The id is out of range.") from None
        return Response({"id": int(id), "id_encoded": encoded})


class IdDecodeView(APIView):
    """The database id behind an `id_encoded`."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, description="id_encoded")],
        responses={200: IdPairSerializer, **_ERRORS},
        summary="Decode an id",
    )
    def get(self, request: Request, id: str) -> Response:
        try:
            decoded = decode_id(id)
        except InvalidEncodedId:
            raise exceptions.ValidationError("Not an encoded id of this site.") from None
        return Response({"id": decoded, "id_encoded": id})
