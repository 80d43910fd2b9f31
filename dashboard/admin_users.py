"""Accounts in the dashboard: avatars in the list, role and status at a glance, and the
actions staff need against abuse, each through the service that owns the rule:
ban / unban (accounts.bans), delete with everything (moderation.services.purge_start),
delete keeping the uploads (social.user_admin), export (imports.export).

It lives here, above the domain apps, because those services span layers that the accounts
app may not import.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils.html import format_html

from accounts.bans import user_ban, user_unban
from accounts.models import User
from albums.models import Album
from chevereto.core.audit import audit_request
from imports.export import export_filename, user_export
from moderation.services import purge_start
from social.user_admin import user_delete_keep_content, user_role_of
from uploads.models import Image


def user_export_response(request: HttpRequest, user: User) -> FileResponse:
    """The account's zip as a download, audited (one entry)."""
    archive = user_export(user=user)
    audit_request(request, action="user.export", source="dashboard", target=user)
    return FileResponse(
        archive, as_attachment=True, filename=export_filename(user), content_type="application/zip"
    )


class UserAdmin(BaseUserAdmin):
    list_display = (
        "avatar_thumb",
        "username",
        "email",
        "role",
        "status",
        "images",
        "albums",
        "date_joined",
    )
    list_display_links = ("avatar_thumb", "username")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_private", "date_joined")
    search_fields = ("username", "email", "name")
    ordering = ("-date_joined",)
    date_hierarchy = "date_joined"
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("name", "bio", "website", "is_private")}),
        (
            "Counters",
            {"fields": ("image_count", "album_count", "followers_count", "following_count")},
        ),
    )
    actions = ["ban", "unban", "export_data", "delete_with_content"]

    class Media:
        css = {"all": ("dashboard/dashboard.css",)}

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "website":
            # A website typed without a scheme is an https one (Django 6's default too).
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A ban is more than `is_active` (keys revoked, sessions ended): the actions do it.
        # Counters are kept by the services (stats rebuild fixes them), never typed in.
        fields = ("is_active", "image_count", "album_count", "followers_count", "following_count")
        if not request.user.is_superuser:
            # Managers do not make admins, nor hand out permissions.
            fields += ("is_superuser", "is_staff", "groups", "user_permissions")
        return fields

    @admin.display(description="")
    def avatar_thumb(self, obj: User) -> str:
        if obj.avatar:
            return format_html(
                '<img class="dash-list-avatar" src="/{}" alt="" width="32" height="32">', obj.avatar
            )
        return format_html(
            '<span class="dash-avatar dash-avatar-initial" aria-hidden="true">{}</span>',
            obj.username[:1].upper(),
        )

    @admin.display(description="Images", ordering="image_count")
    def images(self, obj: User) -> int:
        return obj.image_count

    @admin.display(description="Albums", ordering="album_count")
    def albums(self, obj: User) -> int:
        return obj.album_count

    @admin.display(description="Role", ordering="is_superuser")
    def role(self, obj: User) -> str:
        return user_role_of(obj)

    @admin.display(description="Status", ordering="is_active")
    def status(self, obj: User) -> str:
        return "valid" if obj.is_active else "banned"

    # --- Actions ---------------------------------------------------------------------------

    @admin.action(description="Ban selected users (keys revoked, sessions ended)")
    def ban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        for user in queryset.filter(is_active=True):
            try:
                user_ban(user=user, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{user}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            audit_request(request, action="user.ban", target=user)
            done += 1
        self.message_user(request, f"{done} user(s) banned.")

    @admin.action(description="Unban selected users")
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = 0
        for user in queryset.filter(is_active=False):
            user_unban(user=user, actor=request.user)
            audit_request(request, action="user.unban", target=user)
            done += 1
        self.message_user(request, f"{done} user(s) unbanned.")

    @admin.action(description="Export the data of the selected user (zip)")
    def export_data(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, "Select exactly one user to export.", messages.WARNING)
            return None
        return user_export_response(request, users[0])

    @admin.action(description="Delete selected users with all their uploads and albums")
    def delete_with_content(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        if not self.has_delete_permission(request):
            raise PermissionDenied
        started = 0
        for user in queryset:
            if user.is_superuser and not request.user.is_superuser:
                self.message_user(
                    request, f"{user}: only an admin can delete an admin.", messages.ERROR
                )
                continue
            try:
                # purge_start writes the audit entry ("purge.start").
                purge_start(
                    actor=request.user,
                    user=user,
                    delete_user=True,
                    source="dashboard",
                    actor_ip=getattr(request, "client_ip", None),
                )
            except ValidationError as exc:
                self.message_user(request, f"{user}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            started += 1
        self.message_user(
            request,
            f"{started} account(s) deactivated; the worker deletes their files, then the accounts.",
        )

    # --- The stock delete keeps the uploads (as guest uploads), like API V4's default ------

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_delete_keep_content(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_delete_keep_content(user=user)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """What the confirmation page lists: the stock one would list the uploads as deleted
        (they are kept) and ask for delete rights over follows and likes, which the service
        removes with the account whatever the dashboard lets staff delete one by one."""
        users = list(objs)
        albums = Album.objects.filter(owner__in=users).count()
        images = Image.objects.filter(user__in=users).count()
        listed: list[Any] = [str(u) for u in users]
        if albums:
            listed.append(f"{albums} album(s), deleted (their uploads stay)")
        if images:
            listed.append(f"{images} upload(s), kept as guest uploads outside any album")
        counts = {"users": len(users), "albums": albums}
        return listed, counts, set(), []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (
            obj.pk == request.user.pk or (obj.is_superuser and not request.user.is_superuser)
        ):
            return False
        return super().has_delete_permission(request, obj)

    # --- Export from the change page -------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, object_id: str) -> FileResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = get_object_or_404(User, pk=object_id if object_id.isdigit() else None)
        return user_export_response(request, user)
