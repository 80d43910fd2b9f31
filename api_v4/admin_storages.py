"""API V4 admin routes for storages (`/api/4/admin/storages/...`), staff only.

Thin: settings are checked and saved by uploads.storage_services, files moved by a worker
(uploads.tasks.storage_migrate_batch). A storage's secret key is never answered.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import refuse_unknown_fields, strict_query
from api_v4.schema import closed_body, error_responses
from chevereto.core.audit import audit_request
from uploads.models import Storage
from uploads.storage import default_storage_kind
from uploads.storage_services import (
    EDITABLE,
    storage_create,
    storage_migration_start,
    storage_stats_regen,
    storage_update,
)

# --- Bodies --------------------------------------------------------------------------------


class StorageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Storage.Kind.choices)
    is_active = serializers.BooleanField(help_text="New uploads go here")
    folder = serializers.CharField(help_text="local: the absolute folder")
    bucket = serializers.CharField()
    endpoint_url = serializers.CharField()
    region = serializers.CharField()
    prefix = serializers.CharField()
    access_key_id = serializers.CharField()
    has_secret = serializers.BooleanField(help_text="Whether a secret key is set (never shown)")
    addressing_style = serializers.CharField()
    public_url = serializers.CharField()
    file_count = serializers.IntegerField()
    bytes_used = serializers.IntegerField()
    stats_updated_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class StorageBodySerializer(serializers.Serializer):
    storage = StorageSerializer()


class StorageListSerializer(serializers.Serializer):
    default_kind = serializers.ChoiceField(
        choices=Storage.Kind.choices,
        help_text="What the configured default storage is (uploads without a storage)",
    )
    storages = StorageSerializer(many=True)


class MigrationSerializer(serializers.Serializer):
    storage = StorageSerializer()
    pending = serializers.IntegerField(help_text="Uploads to move (a worker moves them)")


def _text(**kw: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, **kw)


@closed_body
class StorageEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=Storage.Kind.choices, required=False)
    is_active = serializers.BooleanField(required=False, help_text="Send new uploads here")
    folder = _text(max_length=500, help_text="local: an absolute folder")
    bucket = _text(max_length=255)
    endpoint_url = _text(max_length=500, help_text="s3: blank for AWS")
    region = _text(max_length=64)
    prefix = _text(max_length=255, help_text="s3: a folder inside the bucket")
    access_key_id = _text(max_length=255, help_text="Blank: the environment's AWS_* settings")
    secret_access_key = _text(max_length=255, write_only=True)
    addressing_style = _text(max_length=8, help_text="path, virtual or blank")
    public_url = _text(max_length=500, help_text="s3: a public or CDN URL (files unsigned)")


@closed_body
class StorageCreateSerializer(StorageEditSerializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Storage.Kind.choices)


# --- Helpers -------------------------------------------------------------------------------


def _representation(storage: Storage) -> dict[str, Any]:
    body = {name: getattr(storage, name) for name in EDITABLE if name != "secret_access_key"}
    body.update(
        id=storage.pk,
        has_secret=bool(storage.secret_access_key),
        file_count=storage.file_count,
        bytes_used=storage.bytes_used,
        stats_updated_at=storage.stats_updated_at,
        created_at=storage.created_at,
    )
    return body


def _storage_or_404(id: str) -> Storage:
    if id.isascii() and id.isdigit() and len(id) < 19:
        storage = Storage.objects.filter(pk=int(id)).first()
        if storage is not None:
            return storage
    raise exceptions.NotFound("Storage not found.")


def _validated(request: Request, serializer_class: type[serializers.Serializer]) -> dict:
    strict_query(request, ())
    refuse_unknown_fields(request.data, serializer_class().fields)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _audit_details(fields: dict) -> dict:
    # The secret is written, never logged.
    return {k: ("***" if k == "secret_access_key" else v) for k, v in fields.items()}


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The storage's id")


# --- Views ---------------------------------------------------------------------------------


class StorageListView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_storages_list",
        summary="List storages (and what the default storage is)",
        responses={200: StorageListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, ())
        return Response(
            {
                "default_kind": default_storage_kind(),
                "storages": [_representation(s) for s in Storage.objects.order_by("pk")],
            }
        )

    @extend_schema(
        operation_id="admin_storages_create",
        summary="Add a storage (local folder or S3-compatible bucket)",
        request=StorageCreateSerializer,
        responses={201: StorageBodySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        fields = _validated(request, StorageCreateSerializer)
        try:
            storage = storage_create(**fields)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        audit_request(
            request,
            action="storage.create",
            source="api",
            target=storage,
            details=_audit_details(fields),
        )
        return Response({"storage": _representation(storage)}, status=status.HTTP_201_CREATED)


class StorageView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_storages_edit",
        summary="Change a storage's settings (its kind only while it holds no files)",
        parameters=[_ID],
        request=StorageEditSerializer,
        responses={200: StorageBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: str) -> Response:
        storage = _storage_or_404(id)
        fields = _validated(request, StorageEditSerializer)
        try:
            storage = storage_update(storage=storage, **fields)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        audit_request(
            request,
            action="storage.edit",
            source="api",
            target=storage,
            details=_audit_details(fields),
        )
        return Response({"storage": _representation(storage)})


class StorageMigrateView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_storages_migrate",
        summary="Move every upload to this storage (new uploads go there at once; a worker "
        "copies, verifies, switches and deletes, batch by batch)",
        parameters=[_ID],
        request=None,
        responses={202: MigrationSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        storage = _storage_or_404(id)
        pending = storage_migration_start(storage=storage)
        audit_request(
            request,
            action="storage.migrate",
            source="api",
            target=storage,
            details={"pending": pending},
        )
        return Response(
            {"storage": _representation(storage), "pending": pending},
            status=status.HTTP_202_ACCEPTED,
        )


class StorageStatsRegenView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_storages_stats_regen",
        summary="Recount a storage's files and bytes",
        parameters=[_ID],
        request=None,
        responses={200: StorageBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        storage = _storage_or_404(id)
        fresh = storage_stats_regen(storage_id=storage.pk) or storage
        audit_request(
            request,
            action="storage.stats_regen",
            source="api",
            target=fresh,
            details={"file_count": fresh.file_count, "bytes_used": fresh.bytes_used},
        )
        return Response({"storage": _representation(fresh)})


urlpatterns: list[URLPattern] = [
    path("admin/storages/", StorageListView.as_view(), name="api-v4-admin-storages"),
    path("admin/storages/<str:id>/", StorageView.as_view(), name="api-v4-admin-storage"),
    path(
        "admin/storages/<str:id>/migrate/",
        StorageMigrateView.as_view(),
        name="api-v4-admin-storage-migrate",
    ),
    path(
        "admin/storages/<str:id>/stats/regen/",
        StorageStatsRegenView.as_view(),
        name="api-v4-admin-storage-stats-regen",
    ),
]
