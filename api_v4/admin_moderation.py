"""API V4 admin routes for moderation (staff only):

- `GET admin/moderation/`: the queue, uploads awaiting approval and uploads with open
  reports (each with its reports), cursor paged (*ours*);
- `PATCH admin/images/bulk/approve/`: approve (`is_approved: true`) or reject (`false`:
  the uploads are deleted, as Chevereto does) up to 100 uploads, reported id by id.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import (
    PAGING,
    BulkResult,
    BulkResultSerializer,
    IdListField,
    StrictBooleanField,
    WholeBodyMixin,
    refuse_unknown_fields,
    strict_query,
)
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters
from api_v4.schema import closed_body, error_responses
from api_v4.serializers import ImageSerializer
from chevereto.core.encoding import InvalidEncodedId, decode_id
from moderation.models import Report
from moderation.selectors import QUEUE_STATUSES, moderation_queue
from moderation.services import images_moderate
from uploads.representation import images_representation

QUEUE_SORTS = {
    "date_asc": Sort.of("created_at", "id"),  # oldest first: the order to work through
    "date_desc": Sort.of("-created_at", "-id"),
}


class QueueReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    message = serializers.CharField(allow_blank=True)
    reporter = serializers.CharField(allow_null=True, help_text="Username; null for a guest")
    reporter_ip = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class QueueItemSerializer(serializers.Serializer):
    image = ImageSerializer()
    is_approved = serializers.BooleanField(help_text="False: awaiting approval")
    uploader = serializers.CharField(allow_null=True, help_text="Username; null for a guest")
    uploader_ip = serializers.CharField(allow_null=True)
    reports = QueueReportSerializer(many=True, help_text="Open reports, oldest first")


class QueueSerializer(PagingSerializer):
    queue = QueueItemSerializer(many=True)


def _report(report: Report) -> dict[str, Any]:
    return {
        "id": report.pk,
        "reason": report.reason,
        "message": report.message,
        "reporter": report.reporter.username if report.reporter else None,
        "reporter_ip": report.reporter_ip,
        "created_at": report.created_at,
    }


class ModerationQueueView(APIView):
    """What awaits a moderator: uploads awaiting approval and uploads with open reports."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_moderation_queue",
        summary="The moderation queue",
        parameters=[
            *paging_parameters(QUEUE_SORTS, "date_asc"),
            OpenApiParameter(
                "status",
                str,
                enum=list(QUEUE_STATUSES),
                default="all",
                description="pending: awaiting approval; reported: with open reports",
            ),
        ],
        responses={200: QueueSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, PAGING | {"status"})
        status = request.query_params.get("status", "all")
        if status not in QUEUE_STATUSES:
            raise exceptions.ValidationError({"status": f"One of {', '.join(QUEUE_STATUSES)}."})
        queue = moderation_queue(status=status)
        page = keyset_page(request, queue, sorts=QUEUE_SORTS, default="date_asc")
        images = images_representation(page.items, request)
        items = [
            {
                "image": body,
                "is_approved": image.is_approved,
                "uploader": image.user.username if image.user else None,
                "uploader_ip": image.uploader_ip,
                "reports": [_report(r) for r in image.open_report_list],
            }
            for image, body in zip(page.items, images, strict=True)
        ]
        return Response({"queue": items, **page.links})


@closed_body
class ApproveSerializer(WholeBodyMixin, serializers.Serializer):
    image_ids = IdListField()
    is_approved = StrictBooleanField(help_text="true: approve; false: reject (deletes them)")


class ImagesApproveView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_images_bulk_approve",
        summary="Approve or reject uploads",
        description=(
            "Approving shows the uploads to everyone and dismisses their open reports; "
            "rejecting deletes them with their files. Ids that name no upload are listed "
            "in `failed`."
        ),
        request=ApproveSerializer,
        responses={200: BulkResultSerializer, **error_responses(400, 401, 403)},
    )
    def patch(self, request: Request) -> Response:
        strict_query(request, ())
        refuse_unknown_fields(request.data, ApproveSerializer().fields)
        body = ApproveSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        result = BulkResult()
        pks: dict[int, str] = {}
        for encoded in body.validated_data["image_ids"]:
            try:
                pks.setdefault(decode_id(encoded), encoded)
            except InvalidEncodedId:
                result.fail(encoded, "Image not found.")
        if pks:
            edited, failed = images_moderate(
                actor=request.user,
                image_ids=list(pks),
                approve=body.validated_data["is_approved"],
                source="api",
                ip=getattr(request, "client_ip", None),
            )
            for pk in edited:
                result.ok(pk)
            for failure in failed:
                result.fail(pks[failure["id"]], failure["error"])
        return Response(result.body())


urlpatterns: list[URLPattern] = [
    path("admin/moderation/", ModerationQueueView.as_view(), name="api-v4-admin-moderation"),
    path(
        "admin/images/bulk/approve/",
        ImagesApproveView.as_view(),
        name="api-v4-admin-images-bulk-approve",
    ),
]
