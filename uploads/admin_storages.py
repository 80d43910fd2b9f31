"""The Storage admin: where files live, which storage new uploads go to, moving files there.

Saving goes through uploads.storage_services (validation, one active storage); the actions
are audited here, the form's changes by the dashboard's own audit of model changes.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from chevereto.core.audit import audit_request
from uploads.models import Storage
from uploads.storage_services import (
    EDITABLE,
    storage_migration_start,
    storage_save,
    storage_stats_regen,
    storage_validate,
)


class StorageForm(forms.ModelForm):
    # Never shown back; left blank, the saved secret stays.
    secret_access_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Blank keeps the saved secret (or, with no key id, the environment's).",
    )

    class Meta:
        model = Storage
        fields = EDITABLE

    def clean_secret_access_key(self) -> str:
        value = self.cleaned_data.get("secret_access_key") or ""
        return value or (self.instance.secret_access_key if self.instance.pk else "")

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk and "kind" in self.changed_data and self.instance.images.exists():
            raise ValidationError({"kind": "This storage holds files: its kind cannot change."})
        candidate = Storage(**{name: cleaned.get(name, "") for name in self.Meta.fields})
        storage_validate(candidate)
        return cleaned


@admin.register(Storage)
class StorageAdmin(admin.ModelAdmin):
    form = StorageForm
    list_display = ("name", "kind", "is_active", "file_count", "used", "stats_updated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "bucket", "folder")
    readonly_fields = ("file_count", "bytes_used", "stats_updated_at", "created_at")
    actions = ("recount", "migrate_here")
    fieldsets = (
        (None, {"fields": ("name", "kind", "is_active")}),
        ("Local folder", {"fields": ("folder",)}),
        (
            "S3-compatible bucket",
            {
                "fields": (
                    "bucket",
                    "endpoint_url",
                    "region",
                    "prefix",
                    "access_key_id",
                    "secret_access_key",
                    "addressing_style",
                    "public_url",
                )
            },
        ),
        ("Usage", {"fields": ("file_count", "bytes_used", "stats_updated_at", "created_at")}),
    )

    @admin.display(description="used", ordering="bytes_used")
    def used(self, storage: Storage) -> str:
        return filesizeformat(storage.bytes_used)

    def save_model(self, request: HttpRequest, obj: Storage, form: object, change: bool) -> None:
        storage_save(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Storage | None = None) -> bool:
        # A storage that holds files cannot go: its uploads would point nowhere.
        if obj is not None and obj.images.exists():
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Recount files and bytes")
    def recount(self, request: HttpRequest, queryset: QuerySet[Storage]) -> None:
        for storage in queryset:
            fresh = storage_stats_regen(storage_id=storage.pk) or storage
            audit_request(
                request,
                action="storage.stats_regen",
                target=fresh,
                details={"file_count": fresh.file_count, "bytes_used": fresh.bytes_used},
            )
        self.message_user(request, f"Recounted {queryset.count()} storages.")

    @admin.action(description="Move every upload here (and send new uploads here)")
    def migrate_here(self, request: HttpRequest, queryset: QuerySet[Storage]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose one storage to move files to.", messages.ERROR)
            return
        storage = queryset.get()
        pending = storage_migration_start(storage=storage)
        audit_request(
            request, action="storage.migrate", target=storage, details={"pending": pending}
        )
        self.message_user(
            request, f"New uploads go to {storage.name}; {pending} uploads queued to move there."
        )
