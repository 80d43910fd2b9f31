"""Dashboard pages of moderation: reports (dismiss, or remove the image) and purge jobs
(read-only progress). Every action goes through a service, which writes its audit entry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from accounts.models import User
from chevereto.core.audit import audit_request
from chevereto.core.bans import ip_ban_create
from moderation.models import PurgeJob, Report
from moderation.reports import reports_resolve
from moderation.selectors import queue_filter
from moderation.services import images_flag_nsfw, images_moderate, purge_start
from uploads.admin import ImageAdmin
from uploads.files import variant_file
from uploads.models import Image
from uploads.purge import images_delete_now
from uploads.selectors import image_viewer_path


def _client_ip(request: HttpRequest) -> str | None:
    return getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR")


class ModerationQueueFilter(admin.SimpleListFilter):
    title = "moderation queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("all", "In the queue"),
            ("pending", "Awaiting approval"),
            ("reported", "With open reports"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Image]) -> QuerySet[Image]:
        if self.value() in {"all", "pending", "reported"}:
            return queryset.filter(queue_filter(status=self.value()))
        return queryset


@admin.register(Image)
class ModeratedImageAdmin(ImageAdmin):
    """Uploads, with the moderation actions. Each calls one service, audited there or here."""

    list_filter = (ModerationQueueFilter, *ImageAdmin.list_filter)
    actions = [
        "approve",
        "reject",
        "flag_nsfw",
        "unflag_nsfw",
        "ban_uploader_address",
        "purge_uploader",
        "purge_address",
        "delete_with_files",
    ]

    def _moderate(self, request: HttpRequest, queryset: QuerySet[Image], approve: bool) -> None:
        edited, _failed = images_moderate(
            actor=request.user,
            image_ids=list(queryset.values_list("pk", flat=True)),
            approve=approve,
            source="dashboard",
            ip=_client_ip(request),
        )
        verb = "approved" if approve else "rejected and deleted"
        self.message_user(request, f"{len(edited)} uploads {verb}.", messages.SUCCESS)

    @admin.action(description="Approve the selected uploads")
    def approve(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        self._moderate(request, queryset, approve=True)

    @admin.action(description="Reject the selected uploads (deletes them and their files)")
    def reject(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        self._moderate(request, queryset, approve=False)

    def _flag(self, request: HttpRequest, queryset: QuerySet[Image], nsfw: bool) -> None:
        count = images_flag_nsfw(
            actor=request.user,
            image_ids=list(queryset.values_list("pk", flat=True)),
            nsfw=nsfw,
            source="dashboard",
            ip=_client_ip(request),
        )
        self.message_user(request, f"{count} uploads {'flagged' if nsfw else 'unflagged'}.")

    @admin.action(description="Flag the selected uploads as NSFW")
    def flag_nsfw(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        self._flag(request, queryset, nsfw=True)

    @admin.action(description="Unflag the selected uploads (not NSFW)")
    def unflag_nsfw(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        self._flag(request, queryset, nsfw=False)

    @admin.action(description="Ban the uploaders' IP addresses")
    def ban_uploader_address(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        addresses = sorted(
            set(queryset.exclude(uploader_ip=None).values_list("uploader_ip", flat=True))
        )
        banned = []
        for address in addresses:
            if address == _client_ip(request):
                self.message_user(
                    request, f"{address} is your own address: not banned.", messages.WARNING
                )
                continue
            try:
                ban = ip_ban_create(ip=address, actor=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{address}: {' '.join(error.messages)}", messages.WARNING
                )
                continue
            audit_request(
                request,
                action="ipban.create",
                target=ban,
                target_type="ipban",
                target_id=ban.ip,
                details={"ip": ban.ip, "from_images": True},
            )
            banned.append(ban.ip)
        if banned:
            self.message_user(request, f"Banned: {', '.join(banned)}.", messages.SUCCESS)
        elif not addresses:
            self.message_user(request, "The selected uploads carry no address.", messages.WARNING)

    def _purge(
        self, request: HttpRequest, queryset: QuerySet[Image], *, by: str
    ) -> HttpResponse | None:
        """Confirm first (a purge cannot be undone), then start one purge per target."""
        if by == "user":
            user_ids = set(queryset.exclude(user=None).values_list("user_id", flat=True))
            targets: list[Any] = list(User.objects.filter(pk__in=user_ids).order_by("username"))
        else:
            targets = sorted(
                set(queryset.exclude(uploader_ip=None).values_list("uploader_ip", flat=True))
            )
        if not targets:
            what = "registered uploader" if by == "user" else "address"
            self.message_user(request, f"The selected uploads have no {what}.", messages.WARNING)
            return None
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "moderation/purge_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Delete everything from these uploaders?",
                    "by": by,
                    "targets": targets,
                    "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                    "action": request.POST.get("action", ""),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        started = 0
        for target in targets:
            kwargs = {"user": target} if by == "user" else {"ip": target}
            try:
                purge_start(
                    actor=request.user, source="dashboard", actor_ip=_client_ip(request), **kwargs
                )
            except ValidationError as error:
                self.message_user(request, f"{target}: {' '.join(error.messages)}", messages.ERROR)
                continue
            started += 1
        self.message_user(
            request,
            f"{started} purges started: the uploads are hidden now and deleted in the background.",
            messages.SUCCESS,
        )
        return None

    @admin.action(description="Delete everything from these uploaders (their accounts stay)")
    def purge_uploader(
        self, request: HttpRequest, queryset: QuerySet[Image]
    ) -> HttpResponse | None:
        return self._purge(request, queryset, by="user")

    @admin.action(description="Delete everything uploaded from these addresses")
    def purge_address(self, request: HttpRequest, queryset: QuerySet[Image]) -> HttpResponse | None:
        return self._purge(request, queryset, by="ip")

    @admin.action(description="Delete the selected uploads and their files")
    def delete_with_files(self, request: HttpRequest, queryset: QuerySet[Image]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        deleted = images_delete_now(queryset=Image.objects.filter(pk__in=ids))
        audit_request(
            request,
            action="image.delete",
            target_type="image",
            target_id=ids[0] if len(ids) == 1 else "",
            details={"image_ids": ids, "count": deleted},
        )
        self.message_user(request, f"{deleted} uploads deleted.", messages.SUCCESS)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "preview",
        "image_link",
        "reason",
        "status",
        "reporter",
        "reporter_ip",
        "created_at",
    )
    list_filter = ("status", "reason", "created_at")
    search_fields = ("message", "reporter__username", "reporter_ip", "image__title")
    list_select_related = ("image", "reporter")
    date_hierarchy = "created_at"
    readonly_fields = (
        "image",
        "reporter",
        "reporter_ip",
        "reason",
        "message",
        "status",
        "created_at",
        "resolved_at",
        "resolved_by",
    )
    actions = ["dismiss", "remove_image"]

    @admin.display(description="")
    def preview(self, obj: Report) -> str:
        thumb = variant_file(obj.image, "thumb")
        if thumb is None:
            return ""
        return format_html(
            '<img src="/{}" width="64" height="64" style="object-fit:cover" alt="">', thumb.name
        )

    @admin.display(description="Image")
    def image_link(self, obj: Report) -> str:
        return format_html('<a href="{}">{}</a>', image_viewer_path(obj.image), obj.image)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reports come from visitors

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False  # resolved through the actions, which are audited

    @admin.action(description="Dismiss the selected reports (keep the images)")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        count = reports_resolve(
            reports=list(queryset),
            remove_image=False,
            actor=request.user,
            source="dashboard",
            ip=_client_ip(request),
        )
        self.message_user(request, f"{count} reports dismissed.", messages.SUCCESS)

    @admin.action(description="Remove the reported images (deletes them and their files)")
    def remove_image(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        count = reports_resolve(
            reports=list(queryset),
            remove_image=True,
            actor=request.user,
            source="dashboard",
            ip=_client_ip(request),
        )
        self.message_user(request, f"{count} reports resolved by removing their images.")


@admin.register(PurgeJob)
class PurgeJobAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "progress",
        "files_deleted",
        "albums_deleted",
        "user_deleted",
        "actor",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "delete_user", "created_at")
    search_fields = ("username", "ip")
    list_select_related = ("actor",)

    def get_readonly_fields(self, request: HttpRequest, obj: PurgeJob | None = None) -> list[str]:
        return [field.name for field in PurgeJob._meta.fields]

    @admin.display(description="Uploads deleted")
    def progress(self, obj: PurgeJob) -> str:
        total = max(obj.images_total, obj.images_deleted) or 1
        percent = 100 if obj.status == PurgeJob.Status.DONE else obj.images_deleted * 100 // total
        return format_html(
            '<progress max="100" value="{}" title="{}%"></progress> {} / {}',
            percent,
            percent,
            obj.images_deleted,
            obj.images_total,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started from an image or a user (moderation.services.purge_start)

    def has_change_permission(self, request: HttpRequest, obj: PurgeJob | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PurgeJob | None = None) -> bool:
        return False
