"""API V4 admin routes for accounts (staff only), at Chevereto's paths:

- `admin/users/`: GET the list (q, role, status, cursor), POST a new account;
- `admin/users/{id}/`: GET, PATCH (role, status, profile, email, password), DELETE (with or
  without the content: `?with_content=1` purges it through the worker);
- `admin/users/{id}/export/`: GET the account's zip (originals by album + manifest.json).

Views stay thin: the rules are `social.user_admin`, `accounts.bans`,
`moderation.services.purge_start` and `imports.export`; each write records one audit entry.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.bans import user_ban, user_unban
from accounts.models import User
from accounts.services import user_profile_update
from api_v4.base import (
    PAGING,
    decode_or_404,
    id_path_parameter,
    not_found,
    refuse_unknown_fields,
    strict_query,
)
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters
from api_v4.schema import closed_body, error_responses
from chevereto.core.audit import audit_request
from chevereto.core.encoding import encode_id
from imports.export import export_filename, user_export
from moderation.services import purge_start
from social.user_admin import (
    ROLES,
    RoleChangeRefused,
    user_admin_create,
    user_delete_keep_content,
    user_role_of,
    user_role_set,
)

STATUSES = ("valid", "banned")
USER_SORTS = {
    "date_desc": Sort.of("-date_joined", "-id"),
    "date_asc": Sort.of("date_joined", "id"),
    "images_desc": Sort.of("-image_count", "-id"),
}
_PROFILE_FIELDS = ("name", "email", "bio", "website", "is_private")
_MAX_QUERY = 100


def _refused(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError({k: v[0] for k, v in exc.message_dict.items()})
    return exceptions.ValidationError(" ".join(exc.messages))


def admin_user_representation(user: User, request: Request) -> dict[str, Any]:
    """An account as staff see it: the public profile plus email, role and status."""
    profile = request.build_absolute_uri(f"/{user.username}")
    return {
        "id": user.pk,
        "id_encoded": encode_id(user.pk),
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "bio": user.bio,
        "website": user.website,
        "is_private": user.is_private,
        "role": user_role_of(user),
        "status": "valid" if user.is_active else "banned",
        "image_count": user.image_count,
        "album_count": user.album_count,
        "followers": user.followers_count,
        "following": user.following_count,
        "avatar": request.build_absolute_uri("/" + user.avatar) if user.avatar else None,
        "url": profile,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }


# --- Bodies, for the schema ----------------------------------------------------------------


class AdminUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    id_encoded = serializers.CharField()
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    name = serializers.CharField(allow_blank=True)
    bio = serializers.CharField(allow_blank=True)
    website = serializers.CharField(allow_blank=True)
    is_private = serializers.BooleanField()
    role = serializers.ChoiceField(choices=ROLES)
    status = serializers.ChoiceField(choices=STATUSES)
    image_count = serializers.IntegerField()
    album_count = serializers.IntegerField()
    followers = serializers.IntegerField()
    following = serializers.IntegerField()
    avatar = serializers.URLField(allow_null=True)
    url = serializers.URLField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)


class AdminUserBodySerializer(serializers.Serializer):
    user = AdminUserSerializer()


class AdminUserListSerializer(PagingSerializer):
    users = AdminUserSerializer(many=True)


@closed_body
class AdminUserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=16)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="Omit for an account that logs in only after a password reset",
    )
    name = serializers.CharField(required=False, allow_blank=True, max_length=60)
    role = serializers.ChoiceField(choices=ROLES, required=False, default="user")


@closed_body
class AdminUserEditSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES, required=False)
    status = serializers.ChoiceField(
        choices=STATUSES, required=False, help_text="banned: deactivated, keys and sessions end"
    )
    ban_reason = serializers.CharField(required=False, allow_blank=True, max_length=255)
    name = serializers.CharField(required=False, allow_blank=True, max_length=60)
    email = serializers.EmailField(required=False, max_length=254)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=500)
    website = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_private = serializers.BooleanField(required=False)
    password = serializers.CharField(required=False, max_length=128)


class AdminUserDeletedSerializer(serializers.Serializer):
    deleted = serializers.CharField(help_text="The account's id_encoded")
    with_content = serializers.BooleanField()
    images_kept = serializers.IntegerField(required=False)
    purge_job = serializers.IntegerField(
        required=False, help_text="The purge deleting the uploads (with_content)"
    )


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    data = request.data
    if not hasattr(data, "keys"):
        raise exceptions.ValidationError("The body must be a JSON object or a form.")
    refuse_unknown_fields(data, serializer_class().fields)
    serializer = serializer_class(data=data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _user_or_404(encoded: str) -> User:
    user = User.objects.filter(pk=decode_or_404(encoded, what="User")).first()
    if user is None:
        raise not_found("User")
    return user


# --- Views ---------------------------------------------------------------------------------

_LIST_PARAMETERS = [
    OpenApiParameter(
        "q",
        {"type": "string", "maxLength": _MAX_QUERY},
        description="In the username, name or email",
    ),
    OpenApiParameter("role", str, enum=list(ROLES)),
    OpenApiParameter("status", str, enum=list(STATUSES)),
    *paging_parameters(USER_SORTS, "date_desc"),
]


def _filtered(users: QuerySet[User], query: Any) -> QuerySet[User]:
    text = query.get("q", "").strip()
    if len(text) > _MAX_QUERY:
        raise exceptions.ValidationError({"q": f"At most {_MAX_QUERY} characters."})
    if text:
        users = users.filter(
            Q(username__icontains=text) | Q(name__icontains=text) | Q(email__icontains=text)
        )
    role = query.get("role")
    if role is not None:
        if role not in ROLES:
            raise exceptions.ValidationError({"role": f"One of {', '.join(ROLES)}."})
        users = {
            "admin": users.filter(is_superuser=True),
            "manager": users.filter(is_staff=True, is_superuser=False),
            "user": users.filter(is_staff=False, is_superuser=False),
        }[role]
    state = query.get("status")
    if state is not None:
        if state not in STATUSES:
            raise exceptions.ValidationError({"status": f"One of {', '.join(STATUSES)}."})
        users = users.filter(is_active=state == "valid")
    return users


class AdminUsersView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_users_list",
        summary="List accounts",
        parameters=_LIST_PARAMETERS,
        responses={200: AdminUserListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"q", "role", "status"})
        users = _filtered(User.objects.all(), request.query_params)
        page = keyset_page(request, users, sorts=USER_SORTS, default="date_desc")
        body = [admin_user_representation(u, request) for u in page.items]
        return Response({"users": body, **page.links})

    @extend_schema(
        operation_id="admin_users_create",
        summary="Create an account",
        request=AdminUserCreateSerializer,
        responses={201: AdminUserBodySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        data = _valid(AdminUserCreateSerializer, request)
        try:
            user = user_admin_create(actor=request.user, **data)
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        audit_request(
            request,
            action="user.create",
            source="api",
            target=user,
            details={"role": data.get("role", "user")},
        )
        return Response(
            {"user": admin_user_representation(user, request)}, status=status.HTTP_201_CREATED
        )


class AdminUserView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_user_get",
        summary="One account",
        parameters=[id_path_parameter("user")],
        responses={200: AdminUserBodySerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        return Response({"user": admin_user_representation(_user_or_404(id), request)})

    @extend_schema(
        operation_id="admin_user_edit",
        summary="Edit an account: role, status (ban), profile, email, password",
        description=(
            "Only the fields sent change, all or nothing. `role`: only admins make or unmake "
            "admins, and nobody changes their own role or bans themselves (403)."
        ),
        parameters=[id_path_parameter("user")],
        request=AdminUserEditSerializer,
        responses={200: AdminUserBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        user = _user_or_404(id)
        data = _valid(AdminUserEditSerializer, request)
        actor = request.user
        changed: list[str] = []
        if "password" in data:
            try:
                validate_password(data["password"], user=user)
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({"password": " ".join(exc.messages)}) from None
        try:
            with transaction.atomic():
                if "role" in data and user_role_set(actor=actor, user=user, role=data["role"]):
                    changed.append("role")
                profile = {k: data[k] for k in _PROFILE_FIELDS if k in data}
                if profile:
                    user_profile_update(user=user, **profile)
                    changed.extend(sorted(profile))
                if "password" in data:
                    # Saving it revokes the user's keys and ends their sessions (User.save),
                    # except an admin's own session here.
                    user.set_password(data["password"])
                    user.save(update_fields=["password"])
                    if user.pk == actor.pk and request.auth is None:
                        update_session_auth_hash(request._request, user)
                    changed.append("password")
                wanted = data.get("status")
                if wanted == "banned" and user.is_active:
                    user_ban(user=user, actor=actor, reason=data.get("ban_reason", ""))
                    changed.append("status")
                elif wanted == "valid" and not user.is_active:
                    user_unban(user=user, actor=actor)
                    changed.append("status")
        except RoleChangeRefused as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        if changed:
            action = "user.edit"
            if changed == ["status"]:
                action = "user.ban" if data["status"] == "banned" else "user.unban"
            details: dict[str, Any] = {"changed": changed}
            if "role" in changed:
                details["role"] = data["role"]
            if "status" in changed:
                details["status"] = data["status"]
                if data.get("ban_reason"):
                    details["reason"] = data["ban_reason"]
            audit_request(request, action=action, source="api", target=user, details=details)
        user.refresh_from_db()
        return Response({"user": admin_user_representation(user, request)})

    @extend_schema(
        operation_id="admin_user_delete",
        summary="Delete an account, with or without its content",
        description=(
            "Without content, the uploads stay as guest uploads outside any album and the "
            "albums are deleted. With `with_content=1`, every upload and album goes: the "
            "account is deactivated at once, and the worker deletes the files and then the "
            "account (answered 202 with the purge job)."
        ),
        parameters=[
            id_path_parameter("user"),
            OpenApiParameter("with_content", int, enum=[0, 1], default=0),
        ],
        request=None,
        responses={
            200: AdminUserDeletedSerializer,
            202: AdminUserDeletedSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    def delete(self, request: Request, id: str) -> Response:
        strict_query(request, {"with_content"})
        flag = request.query_params.get("with_content", "0")
        if flag not in {"0", "1"}:
            raise exceptions.ValidationError({"with_content": "0 or 1."})
        user = _user_or_404(id)
        actor = request.user
        if user.pk == actor.pk:
            raise exceptions.PermissionDenied("You cannot delete your own account here.")
        if user.is_superuser and not actor.is_superuser:
            raise exceptions.PermissionDenied("Only an admin can delete an admin.")
        encoded = encode_id(user.pk)
        if flag == "1":
            try:
                job = purge_start(
                    actor=actor,
                    user=user,
                    delete_user=True,
                    source="api",
                    actor_ip=getattr(request, "client_ip", None),
                )
            except DjangoValidationError as exc:
                raise _refused(exc) from None
            body = {"deleted": encoded, "with_content": True, "purge_job": job.pk}
            return Response(body, status=status.HTTP_202_ACCEPTED)
        username, pk = user.username, user.pk
        outcome = user_delete_keep_content(user=user)
        audit_request(
            request,
            action="user.delete",
            source="api",
            target_type="user",
            target_id=pk,
            target_repr=username,
            details={"with_content": False, **outcome},
        )
        return Response({"deleted": encoded, "with_content": False, **outcome})


class AdminUserExportView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_user_export",
        summary="Export an account's data",
        description=(
            "A zip: every upload's original under its album's folder (`albums/...`, loose "
            "uploads under `images/`) and `manifest.json` with the account, albums and uploads."
        ),
        parameters=[id_path_parameter("user")],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip"),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request: Request, id: str) -> FileResponse:
        strict_query(request, ())
        user = _user_or_404(id)
        archive = user_export(user=user)
        audit_request(request, action="user.export", source="api", target=user)
        return FileResponse(
            archive,
            as_attachment=True,
            filename=export_filename(user),
            content_type="application/zip",
        )


urlpatterns: list[URLPattern] = [
    path("admin/users/", AdminUsersView.as_view(), name="api-v4-admin-users"),
    path(
        "admin/users/<str:id>/export/",
        AdminUserExportView.as_view(),
        name="api-v4-admin-user-export",
    ),
    path("admin/users/<str:id>/", AdminUserView.as_view(), name="api-v4-admin-user"),
]
