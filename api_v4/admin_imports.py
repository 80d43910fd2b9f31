"""API V4 admin routes for import jobs (`/api/4/admin/imports/...`), staff only.

Thin: the options are checked, and every change made and audited, by imports.services.
A job's database password (Chevereto imports) is never answered.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api_v4.base import refuse_unknown_fields, strict_query
from api_v4.pagination import PagingSerializer, Sort, keyset_page, paging_parameters
from api_v4.schema import closed_body, error_responses
from imports.models import ImportIssue, ImportJob
from imports.services import (
    ImportJobConflict,
    import_job_cancel,
    import_job_create,
    import_job_delete,
    import_job_options_public,
    import_job_pause,
    import_job_process,
    import_job_reset,
    import_job_resume,
    import_job_update,
)

SORTS = {"date_desc": Sort.of("-created_at", "-id"), "date_asc": Sort.of("created_at", "id")}
# Issues answered with one job: the latest ones; the counts per kind cover them all.
LATEST_ISSUES = 20


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The import is not in a state that allows this."


# --- Bodies --------------------------------------------------------------------------------


class IssueSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The file's relative path, or the source row")
    kind = serializers.CharField(
        help_text="corrupt, unsupported, missing, orphan, crashed, error..."
    )
    message = serializers.CharField()
    created_at = serializers.DateTimeField()


class ImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    status = serializers.ChoiceField(choices=ImportJob.Status.choices)
    options = serializers.DictField(help_text="What is imported (passwords masked)")
    total = serializers.IntegerField(help_text="Items found (0 until counted)")
    processed = serializers.IntegerField()
    imported = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    progress = serializers.FloatField(allow_null=True, help_text="Percent done, when known")
    error = serializers.CharField(help_text="Why the job failed as a whole, if it did")
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)


class ImportDetailSerializer(ImportSerializer):
    issue_counts = serializers.DictField(child=serializers.IntegerField())
    issues = IssueSerializer(many=True, help_text=f"The latest {LATEST_ISSUES} issues")


# The body wraps the job as `import`, a Python keyword: the class is made by name.
ImportBodySerializer = type(
    "ImportBodySerializer", (serializers.Serializer,), {"import": ImportDetailSerializer()}
)


class ImportListSerializer(PagingSerializer):
    imports = ImportSerializer(many=True)


class ImportDeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


@closed_body
class ImportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportJob.Kind.choices)
    options = serializers.JSONField(
        help_text="folder: `path`, `user` (username or id; default the first superuser), "
        "`album` (name or id). chevereto: `db` (mysql://USER:PASSWORD@HOST:PORT/DBNAME), "
        "`media` (the folder holding images/), `prefix` (default chv_)."
    )


@closed_body
class ImportEditSerializer(serializers.Serializer):
    options = serializers.JSONField(help_text="The options to change (merged)")


# --- Helpers -------------------------------------------------------------------------------


def _representation(job: ImportJob, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "options": import_job_options_public(job),
        "total": job.total,
        "processed": job.processed,
        "imported": job.imported,
        "skipped": job.skipped,
        "failed": job.failed,
        "progress": round(100 * job.processed / job.total, 1) if job.total else None,
        "error": job.error,
        "created_by": job.created_by.username if job.created_by_id else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
    }
    if detail:
        counts = ImportIssue.objects.filter(job=job).values("kind").annotate(n=Count("id"))
        body["issue_counts"] = {row["kind"]: row["n"] for row in counts}
        latest = ImportIssue.objects.filter(job=job).order_by("-id")[:LATEST_ISSUES]
        body["issues"] = IssueSerializer(latest, many=True).data
    return body


def _job_or_404(id: str) -> ImportJob:
    if id.isascii() and id.isdigit() and len(id) < 19:
        job = ImportJob.objects.select_related("created_by").filter(pk=int(id)).first()
        if job is not None:
            return job
    raise exceptions.NotFound("Import not found.")


def _options_of(value: Any) -> Any:
    # Form bodies carry the options as a JSON string.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise exceptions.ValidationError({"options": "A JSON object."}) from None
    return value


def _client_ip(request: Request) -> str | None:
    return getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR") or None


def _refused(error: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError({"options": error.messages})


def _answer(job: ImportJob, *, status_code: int = 200) -> Response:
    return Response({"import": _representation(job, detail=True)}, status=status_code)


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The import job's id")


# --- Views ---------------------------------------------------------------------------------


class ImportListView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_imports_list",
        summary="List import jobs",
        parameters=[
            OpenApiParameter("status", str, enum=list(ImportJob.Status.values)),
            OpenApiParameter("kind", str, enum=list(ImportJob.Kind.values)),
            *paging_parameters(SORTS, "date_desc"),
        ],
        responses={200: ImportListSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        strict_query(request, {"status", "kind", "cursor", "per_page", "sort"})
        jobs = ImportJob.objects.select_related("created_by")
        for name, choices in (("status", ImportJob.Status), ("kind", ImportJob.Kind)):
            value = request.query_params.get(name)
            if value is not None:
                if value not in choices.values:
                    raise exceptions.ValidationError({name: f"One of {', '.join(choices.values)}."})
                jobs = jobs.filter(**{name: value})
        page = keyset_page(request, jobs, sorts=SORTS, default="date_desc")
        return Response({"imports": [_representation(j) for j in page.items], **page.links})

    @extend_schema(
        operation_id="admin_imports_create",
        summary="Create an import job (queued for a worker at once)",
        request=ImportCreateSerializer,
        responses={201: ImportBodySerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        strict_query(request, ())
        refuse_unknown_fields(request.data, ImportCreateSerializer().fields)
        data = {**request.data.dict()} if hasattr(request.data, "dict") else dict(request.data)
        if "options" in data:
            data["options"] = _options_of(data["options"])
        serializer = ImportCreateSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        try:
            job = import_job_create(
                kind=serializer.validated_data["kind"],
                options=serializer.validated_data["options"],
                actor=request.user,
                source="api",
                ip=_client_ip(request),
            )
        except DjangoValidationError as error:
            raise _refused(error) from None
        return _answer(job, status_code=status.HTTP_201_CREATED)


class ImportView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        operation_id="admin_imports_get",
        summary="An import job, with its counts and latest issues",
        parameters=[_ID],
        responses={200: ImportBodySerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        return _answer(_job_or_404(id))

    @extend_schema(
        operation_id="admin_imports_edit",
        summary="Change an import's options while no process runs it",
        parameters=[_ID],
        request=ImportEditSerializer,
        responses={200: ImportBodySerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        job = _job_or_404(id)
        refuse_unknown_fields(request.data, ImportEditSerializer().fields)
        options = _options_of(request.data.get("options", {}))
        try:
            job = import_job_update(
                job=job, options=options, actor=request.user, source="api", ip=_client_ip(request)
            )
        except DjangoValidationError as error:
            raise _refused(error) from None
        except ImportJobConflict as error:
            raise Conflict(str(error)) from None
        return _answer(job)

    @extend_schema(
        operation_id="admin_imports_delete",
        summary="Forget an import job (what it imported stays)",
        parameters=[_ID],
        responses={200: ImportDeletedSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def delete(self, request: Request, id: str) -> Response:
        strict_query(request, ())
        job = _job_or_404(id)
        pk = job.pk
        try:
            import_job_delete(job=job, actor=request.user, source="api", ip=_client_ip(request))
        except ImportJobConflict as error:
            raise Conflict(str(error)) from None
        return Response({"deleted": pk})


def _action_view(name: str, service: Any, summary: str) -> type[APIView]:
    """One POST route per job action: they differ only by the service they call."""

    class ActionView(APIView):
        permission_classes = [permissions.IsAdminUser]

        @extend_schema(
            operation_id=f"admin_imports_{name}",
            summary=summary,
            parameters=[_ID],
            request=None,
            responses={200: ImportBodySerializer, **error_responses(400, 401, 403, 404, 409)},
        )
        def post(self, request: Request, id: str) -> Response:
            strict_query(request, ())
            job = _job_or_404(id)
            try:
                job = service(job=job, actor=request.user, source="api", ip=_client_ip(request))
            except ImportJobConflict as error:
                raise Conflict(str(error)) from None
            return _answer(job)

    ActionView.__name__ = ActionView.__qualname__ = f"Import{name.title()}View"
    return ActionView


ACTIONS = {
    "process": (import_job_process, "Start (or go on with) an import job"),
    "resume": (import_job_resume, "Resume a paused or failed import; nothing is imported twice"),
    "reset": (import_job_reset, "Start over: issues and counters cleared, failed items retried"),
    "pause": (import_job_pause, "Pause an import at its next batch"),
    "cancel": (import_job_cancel, "Cancel an import for good (what it imported stays)"),
}

urlpatterns: list[URLPattern] = [
    path("admin/imports/", ImportListView.as_view(), name="api-v4-admin-imports"),
    path("admin/imports/<str:id>/", ImportView.as_view(), name="api-v4-admin-import"),
    *(
        path(
            f"admin/imports/<str:id>/{name}/",
            _action_view(name, service, summary).as_view(),
            name=f"api-v4-admin-import-{name}",
        )
        for name, (service, summary) in ACTIONS.items()
    ),
]
