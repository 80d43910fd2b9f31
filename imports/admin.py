"""Dashboard: import jobs with their progress, issues, and the pause/resume/reset/cancel
actions (through imports.services, which audit each one). Jobs are made by the
`import_folder` / `import_chevereto` commands or `POST /api/4/admin/imports/`; the forms
here only show them, so nothing changes a job behind the services' back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from imports.models import ImportIssue, ImportJob
from imports.services import (
    ImportJobConflict,
    import_job_cancel,
    import_job_delete,
    import_job_options_public,
    import_job_pause,
    import_job_reset,
    import_job_resume,
)

# Issues shown on a job's page; the API and the counts cover the rest.
SHOWN_ISSUES = 200


class ImportIssueInline(admin.TabularInline):
    model = ImportIssue
    fields = ("key", "kind", "message", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = f"Issues (the first {SHOWN_ISSUES})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportIssue]:
        # A sliced queryset cannot be filtered further by the formset: pick the ids first.
        ids = list(
            super().get_queryset(request).order_by("id").values_list("id", flat=True)[:SHOWN_ISSUES]
        )
        return super().get_queryset(request).filter(id__in=ids)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _act(
    service: Callable[..., Any], verb: str
) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet[ImportJob]], None]:
    def action(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ImportJob]
    ) -> None:
        ip = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR")
        done, refused = 0, []
        for job in queryset:
            try:
                service(job=job, actor=request.user, source="dashboard", ip=ip)
                done += 1
            except (ImportJobConflict, ValidationError) as exc:
                refused.append(f"#{job.pk}: {exc}")
        if done:
            modeladmin.message_user(request, f"{done} import(s) {verb}.", messages.SUCCESS)
        if refused:
            modeladmin.message_user(
                request, "Not " + verb + ": " + "; ".join(refused), messages.WARNING
            )

    action.__name__ = f"import_{verb}"
    return action


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "progress_bar",
        "imported",
        "skipped",
        "failed",
        "created_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    inlines = [ImportIssueInline]
    fields = (
        "kind",
        "status",
        "shown_options",
        "progress_bar",
        ("total", "processed"),
        ("imported", "skipped", "failed"),
        "error",
        "created_by",
        ("created_at", "started_at", "finished_at", "heartbeat_at"),
    )
    # Everything is shown, nothing edited: the services change jobs.
    readonly_fields = tuple(
        name for entry in fields for name in (entry if isinstance(entry, tuple) else (entry,))
    )
    actions = [
        _act(import_job_pause, "paused"),
        _act(import_job_resume, "resumed"),
        _act(import_job_reset, "reset"),
        _act(import_job_cancel, "cancelled"),
        _act(import_job_delete, "deleted"),
    ]

    @admin.display(description="Options")
    def shown_options(self, job: ImportJob) -> str:
        # The database password of a Chevereto import stays masked here too.
        return ", ".join(f"{k}={v}" for k, v in import_job_options_public(job).items())

    @admin.display(description="Progress")
    def progress_bar(self, job: ImportJob) -> str:
        if not job.total:
            return format_html('<progress aria-label="progress"></progress> {}', job.processed)
        percent = min(100, round(100 * job.processed / job.total))
        return format_html(
            '<progress max="100" value="{}" aria-label="progress">{}%</progress> {} / {} ({}%)',
            percent,
            percent,
            job.processed,
            job.total,
            percent,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting goes through the "deleted" action: audited, and refused while running.
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)
