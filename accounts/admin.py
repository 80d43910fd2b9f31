from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiKey, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "is_private", "date_joined")
    search_fields = ("username", "email", "name")
    ordering = ("-date_joined",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Profile", {"fields": ("name", "bio", "website", "is_private")}),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("prefix", "user__username", "user__email")
    raw_id_fields = ("user",)
    # The digest is useless to an admin and the key itself is never stored.
    exclude = ("digest",)
    readonly_fields = ("prefix", "created_at", "last_used_at")
    actions = ["revoke"]

    def has_add_permission(self, request: object) -> bool:
        # Keys are made where they can be shown once: /settings/api or create_api_key.
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: object, queryset: object) -> None:
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())  # type: ignore[attr-defined]
