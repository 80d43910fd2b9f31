"""API V4 admin routes for IP bans (staff only):

- `admin/bans/ip/`: GET the bans (filters `q`, `active`; cursor paged), POST a ban
  (`ip`: an address or a CIDR range, `message`, `expires_at`);
- `admin/bans/ip/{ip}/`: PATCH (`message`, `expires_at`), DELETE. `{ip}` is the address or
  the range in any spelling (`10.0.0.0/8`, `10.1.2.3/8`, `2001:DB8::/32`): its path
  converter lets the range's one slash through.

Each write records one audit entry.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import URLPattern, path, register_converter
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import PAGING, refuse_unknown_fields, strict_query
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters
from api_v4.schema import closed_body, error_responses
from chevereto.core.audit import audit_request
from chevereto.core.bans import (
    ip_ban_covers,
    ip_ban_create,
    ip_ban_delete,
    ip_ban_update,
    ip_bans_list,
    network_normalize,
)
from chevereto.core.models import IpBan

BAN_SORTS = {"date_desc": Sort.of("-created_at", "-id")}
_MAX_QUERY = 100

IP_PARAMETER = OpenApiParameter(
    "ip",
    str,
    OpenApiParameter.PATH,
    description="The banned address or CIDR range, e.g. `203.0.113.7` or `10.0.0.0/8`",
)


class IpBanSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    is_active = serializers.BooleanField(read_only=True, help_text="False once expired")

    class Meta:
        model = IpBan
        fields = (
            "ip",
            "message",
            "expires_at",
            "is_active",
            "created_at",
            "updated_at",
            "created_by",
        )
        read_only_fields = fields

    def get_created_by(self, ban: IpBan) -> str | None:
        return ban.created_by.username if ban.created_by is not None else None


@closed_body
class IpBanCreateSerializer(serializers.Serializer):
    ip = serializers.CharField(
        max_length=64, help_text="An address (203.0.113.7) or a CIDR range (10.0.0.0/8)"
    )
    message = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Shown to them"
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="Null: never expires"
    )


@closed_body
class IpBanEditSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Null: never expires"
    )


class IpBanBodySerializer(serializers.Serializer):
    ban = IpBanSerializer()


class IpBanListSerializer(PagingSerializer):
    bans = IpBanSerializer(many=True)


class IpBanDeletedSerializer(serializers.Serializer):
    deleted = serializers.CharField(help_text="The address or range no longer banned")


def _body_of(request: Request, serializer_class: type[serializers.Serializer]) -> Any:
    data = request.data
    if not hasattr(data, "keys"):
        raise exceptions.ValidationError("The body must be a JSON object or a form.")
    refuse_unknown_fields(data, serializer_class().fields)
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refusal(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError(exc.messages)


def _normalized(text: str, *, field: str) -> str:
    try:
        return network_normalize(text)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: exc.messages}) from None


def _ban_or_404(ip: str) -> IpBan:
    ban = IpBan.objects.select_related("created_by").filter(ip=_normalized(ip, field="ip")).first()
    if ban is None:
        raise exceptions.NotFound(f"No ban for {ip[:64]}.")
    return ban


def _audit_details(ban: IpBan) -> dict[str, Any]:
    return {
        "ip": ban.ip,
        "message": ban.message,
        "expires_at": ban.expires_at.isoformat() if ban.expires_at else None,
    }


def _active_of(request: Request) -> bool | None:
    raw = request.query_params.get("active")
    if raw is None:
        return None
    if raw not in {"0", "1"}:
        raise exceptions.ValidationError({"active": "1 (live bans) or 0 (expired ones)."})
    return raw == "1"


class AdminIpBansView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_ip_bans_list",
        summary="List IP bans",
        parameters=[
            *paging_parameters(BAN_SORTS, "date_desc"),
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": _MAX_QUERY},
                description="In the address text or the message",
            ),
            OpenApiParameter(
                "active", int, enum=[0, 1], description="1: live bans only; 0: expired only"
            ),
        ],
        responses={200: IpBanListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"q", "active"})
        q = request.query_params.get("q", "").strip()
        if len(q) > _MAX_QUERY:
            raise exceptions.ValidationError({"q": f"At most {_MAX_QUERY} characters."})
        bans = ip_bans_list(q=q, active=_active_of(request)).select_related("created_by")
        page = keyset_page(request, bans, sorts=BAN_SORTS, default="date_desc")
        return Response({"bans": IpBanSerializer(page.items, many=True).data, **page.links})

    @extend_schema(
        operation_id="admin_ip_bans_create",
        summary="Ban an address or a range",
        description=(
            "An address or a CIDR range, IPv4 or IPv6. A malformed one, a range covering the "
            "caller's own address, an expiry in the past or a range already banned is a 400; "
            "an expired ban of the same range is renewed."
        ),
        request=IpBanCreateSerializer,
        responses={201: IpBanBodySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        data = _body_of(request, IpBanCreateSerializer)
        ip = _normalized(data["ip"], field="ip")
        own = getattr(request, "client_ip", "") or request.META.get("REMOTE_ADDR", "")
        if ip_ban_covers(ip, own):
            raise exceptions.ValidationError({"ip": f"{ip} covers your own address ({own})."})
        try:
            ban = ip_ban_create(
                ip=ip, message=data["message"], expires_at=data["expires_at"], actor=request.user
            )
        except DjangoValidationError as exc:
            raise _refusal(exc) from None
        audit_request(
            request, action="ipban.create", source="api", target=ban, details=_audit_details(ban)
        )
        return Response({"ban": IpBanSerializer(ban).data}, status=status.HTTP_201_CREATED)


class AdminIpBanView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_ip_ban_edit",
        summary="Edit an IP ban",
        description="Only the fields sent change; `expires_at: null` makes the ban permanent.",
        parameters=[IP_PARAMETER],
        request=IpBanEditSerializer,
        responses={200: IpBanBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, ip: str) -> Response:
        strict_query(request, ())
        ban = _ban_or_404(ip)
        data = _body_of(request, IpBanEditSerializer)
        ban = ip_ban_update(ban=ban, **data)
        details = {**_audit_details(ban), "changed": sorted(data)}
        audit_request(request, action="ipban.update", source="api", target=ban, details=details)
        return Response({"ban": IpBanSerializer(ban).data})

    @extend_schema(
        operation_id="admin_ip_ban_delete",
        summary="Lift an IP ban",
        parameters=[IP_PARAMETER],
        request=None,
        responses={200: IpBanDeletedSerializer, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request: Request, ip: str) -> Response:
        strict_query(request, ())
        ban = _ban_or_404(ip)
        audit_request(
            request, action="ipban.delete", source="api", target=ban, details=_audit_details(ban)
        )
        ip_ban_delete(ban=ban)
        return Response({"deleted": ban.ip})


class AddressOrRangeConverter:
    """An address, or an address and a prefix length after one slash. Whether it is a
    well-formed one is the view's question (a 400 that says why, not a 404)."""

    regex = r"[^/]+(?:/[^/]+)?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AddressOrRangeConverter, "ip_or_range")

urlpatterns: list[URLPattern] = [
    path("admin/bans/ip/", AdminIpBansView.as_view(), name="api-v4-admin-ip-bans"),
    path("admin/bans/ip/<ip_or_range:ip>/", AdminIpBanView.as_view(), name="api-v4-admin-ip-ban"),
]
