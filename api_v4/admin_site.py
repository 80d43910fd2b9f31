"""API V4 admin routes for the site itself (staff only):

- `admin/categories/`: GET, POST; `admin/categories/{id}/`: PATCH, DELETE (integer ids);
- `admin/settings/`: GET, PATCH the site settings, with the dashboard form's rules (the
  model's validators; `enabled_formats` as a list or comma-separated text);
- `admin/stats/`: GET the site's figures; `admin/stats/rebuild/`: POST, recount every
  stored counter (`social.stats.counters_rebuild`).

Each write records one audit entry.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.urls import URLPattern, path
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import NOT_BLANK_PATTERN, refuse_unknown_fields, strict_query
from api_v4.schema import closed_body, error_responses
from chevereto.core.audit import audit_request
from chevereto.core.formats import FORMAT_CHOICES
from chevereto.core.models import SiteSettings
from social.stats import counters_rebuild, site_counts
from uploads.models import Category

CATEGORY_ID = OpenApiParameter(
    "id", {"type": "integer", "minimum": 1}, OpenApiParameter.PATH, description="Category id"
)


def _body_of(request: Request, serializer_class: type[serializers.Serializer]) -> Any:
    data = request.data
    if not hasattr(data, "keys"):
        raise exceptions.ValidationError("The body must be a JSON object or a form.")
    refuse_unknown_fields(data, serializer_class().fields)
    return data


# --- Categories ----------------------------------------------------------------------------


class AdminCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ("id", "name", "slug", "description")
        read_only_fields = ("id",)
        extra_kwargs = {
            "slug": {"required": False, "help_text": "Made from the name when omitted"},
            "name": {"help_text": "Unique, any case"},
        }

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        taken = Category.objects.filter(name__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A category with this name already exists.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("slug") and "name" in attrs and self.instance is None:
            attrs["slug"] = slugify(attrs["name"])[:50]
            if not attrs["slug"]:
                raise serializers.ValidationError({"slug": "Give a slug: the name makes none."})
        slug = attrs.get("slug")
        if slug:
            taken = Category.objects.filter(slug=slug)
            if self.instance is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                raise serializers.ValidationError({"slug": "Another category has this slug."})
        return attrs


closed_body(AdminCategorySerializer)


class AdminCategoryBodySerializer(serializers.Serializer):
    category = AdminCategorySerializer()


class AdminCategoryListSerializer(serializers.Serializer):
    categories = AdminCategorySerializer(many=True)


class AdminCategoryDeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


def _category_or_404(id: str) -> Category:
    valid = id.isascii() and id.isdigit() and len(id) <= 18
    category = Category.objects.filter(pk=int(id)).first() if valid else None
    if category is None:
        raise exceptions.NotFound("Category not found.")
    return category


def _save(serializer: AdminCategorySerializer) -> Category:
    try:
        with transaction.atomic():
            return serializer.save()
    except IntegrityError:
        # Two requests for one name at once: the unique index decides.
        raise exceptions.ValidationError({"name": "A category with this name exists."}) from None


class AdminCategoriesView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_categories_list",
        summary="List categories",
        responses={200: AdminCategoryListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, ())
        rows = AdminCategorySerializer(Category.objects.order_by("name"), many=True).data
        return Response({"categories": rows})

    @extend_schema(
        operation_id="admin_categories_create",
        summary="Create a category",
        request=AdminCategorySerializer,
        responses={201: AdminCategoryBodySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        serializer = AdminCategorySerializer(data=_body_of(request, AdminCategorySerializer))
        serializer.is_valid(raise_exception=True)
        category = _save(serializer)
        audit_request(request, action="category.create", source="api", target=category)
        return Response(
            {"category": AdminCategorySerializer(category).data}, status=status.HTTP_201_CREATED
        )


class AdminCategoryView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_category_edit",
        summary="Edit a category",
        parameters=[CATEGORY_ID],
        request=AdminCategorySerializer,
        responses={200: AdminCategoryBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        category = _category_or_404(id)
        serializer = AdminCategorySerializer(
            category, data=_body_of(request, AdminCategorySerializer), partial=True
        )
        serializer.is_valid(raise_exception=True)
        category = _save(serializer)
        audit_request(
            request,
            action="category.edit",
            source="api",
            target=category,
            details={"changed": sorted(serializer.validated_data)},
        )
        return Response({"category": AdminCategorySerializer(category).data})

    @extend_schema(
        operation_id="admin_category_delete",
        summary="Delete a category (its uploads stay, without a category)",
        parameters=[CATEGORY_ID],
        request=None,
        responses={200: AdminCategoryDeletedSerializer, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        category = _category_or_404(id)
        pk = category.pk
        audit_request(request, action="category.delete", source="api", target=category)
        category.delete()
        return Response({"deleted": pk})


# --- Settings ------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "string", "enum": list(FORMAT_CHOICES)}},
            {"type": "string", "pattern": NOT_BLANK_PATTERN},
        ],
        "description": "The enabled formats: a list, or comma-separated text",
    }
)
class _FormatsField(serializers.Field):
    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            items = [part.strip() for part in data.split(",") if part.strip()]
        elif isinstance(data, list) and all(isinstance(v, str) for v in data):
            items = [v.strip() for v in data]
        else:
            raise serializers.ValidationError("A list of formats or comma-separated text.")
        unknown = sorted(set(items) - set(FORMAT_CHOICES))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown format(s): {', '.join(unknown)}. Choose from {', '.join(FORMAT_CHOICES)}."
            )
        if not items:
            raise serializers.ValidationError("Enable at least one format.")
        return ",".join(f for f in FORMAT_CHOICES if f in items)

    def to_representation(self, value: str) -> list[str]:
        return [item.strip() for item in value.split(",") if item.strip()]


class AdminSiteSettingsSerializer(serializers.ModelSerializer):
    enabled_formats = _FormatsField()

    class Meta:
        model = SiteSettings
        exclude = ("id",)
        read_only_fields = ("updated_at",)


closed_body(AdminSiteSettingsSerializer)


class AdminSiteSettingsBodySerializer(serializers.Serializer):
    settings = AdminSiteSettingsSerializer()


class AdminSettingsView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_settings_get",
        summary="The site settings",
        responses={200: AdminSiteSettingsBodySerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, ())
        return Response({"settings": AdminSiteSettingsSerializer(SiteSettings.load()).data})

    @extend_schema(
        operation_id="admin_settings_edit",
        summary="Edit the site settings",
        description=(
            "Only the fields sent change, with the dashboard's rules. `id_salt` and "
            "`id_padding` change every public URL: only when migrating a Chevereto site."
        ),
        request=AdminSiteSettingsSerializer,
        responses={200: AdminSiteSettingsBodySerializer, **error_responses(400, 401, 403)},
    )
    def patch(self, request: Request) -> Response:
        strict_query(request, ())
        data = _body_of(request, AdminSiteSettingsSerializer)
        current = SiteSettings.objects.filter(pk=1).first() or SiteSettings.load()
        serializer = AdminSiteSettingsSerializer(current, data=data, partial=True)
        serializer.is_valid(raise_exception=True)
        changed = sorted(
            name
            for name, value in serializer.validated_data.items()
            if getattr(current, name) != value
        )
        for name, value in serializer.validated_data.items():
            setattr(current, name, value)
        try:
            current.full_clean()
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(
                {k: v[0] for k, v in exc.message_dict.items()}
            ) from None
        current.save()
        if changed:
            audit_request(
                request,
                action="settings.edit",
                source="api",
                target=current,
                # Values of secrets (the guest key) stay out of the log; names are enough.
                details={"changed": changed},
            )
        return Response({"settings": AdminSiteSettingsSerializer(current).data})


# --- Stats ---------------------------------------------------------------------------------


class AdminStatsSerializer(serializers.Serializer):
    users = serializers.IntegerField()
    users_banned = serializers.IntegerField()
    images = serializers.IntegerField()
    videos = serializers.IntegerField()
    albums = serializers.IntegerField()
    awaiting_approval = serializers.IntegerField()
    categories = serializers.IntegerField()
    likes = serializers.IntegerField()
    follows = serializers.IntegerField()
    storage_bytes = serializers.IntegerField(help_text="Originals and derivatives")
    storage_originals_bytes = serializers.IntegerField()


class AdminStatsBodySerializer(serializers.Serializer):
    stats = AdminStatsSerializer()


class AdminStatsRebuildSerializer(serializers.Serializer):
    fixed = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows each counter corrected"
    )
    stats = AdminStatsSerializer()


class AdminStatsView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_stats_get",
        summary="The site's figures",
        responses={200: AdminStatsBodySerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, ())
        return Response({"stats": site_counts()})


class AdminStatsRebuildView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_stats_rebuild",
        summary="Recount every stored counter",
        description=(
            "Users' image, album, follower and following counts, albums' image counts and "
            "likes, from the rows they count. Safe to run at any time."
        ),
        request=None,
        responses={200: AdminStatsRebuildSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        fixed = counters_rebuild()
        audit_request(request, action="stats.rebuild", source="api", details={"fixed": fixed})
        return Response({"fixed": fixed, "stats": site_counts()})


urlpatterns: list[URLPattern] = [
    path("admin/categories/", AdminCategoriesView.as_view(), name="api-v4-admin-categories"),
    path("admin/categories/<str:id>/", AdminCategoryView.as_view(), name="api-v4-admin-category"),
    path("admin/settings/", AdminSettingsView.as_view(), name="api-v4-admin-settings"),
    path("admin/stats/", AdminStatsView.as_view(), name="api-v4-admin-stats"),
    path(
        "admin/stats/rebuild/", AdminStatsRebuildView.as_view(), name="api-v4-admin-stats-rebuild"
    ),
]
