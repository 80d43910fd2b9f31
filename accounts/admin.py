from __future__ import annotations

from django.contrib import admin

from accounts.models import ApiKey

# The User admin is the dashboard's (dashboard/admin_users.py): its actions (ban, purge,
# export) call services of layers above this app.


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
