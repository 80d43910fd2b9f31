from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from chevereto.core.bans import ip_ban_covers, ip_bans_clear_cache, network_normalize
from chevereto.core.models import FORMAT_CHOICES, AuditEntry, IpBan, SiteSettings


class SiteSettingsForm(forms.ModelForm):
    enabled_formats = forms.MultipleChoiceField(
        choices=[(f, f.upper()) for f in FORMAT_CHOICES],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = SiteSettings
        exclude: tuple[str, ...] = ()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["enabled_formats"] = sorted(self.instance.formats)

    def clean_enabled_formats(self) -> str:
        chosen = self.cleaned_data["enabled_formats"]
        return ",".join(f for f in FORMAT_CHOICES if f in chosen)


@admin.register(SiteSettings)
class SiteSettingsAdmin(admin.ModelAdmin):
    form = SiteSettingsForm
    readonly_fields = ("updated_at",)
    fieldsets = (
        ("Website", {"fields": ("site_name", "site_description")}),
        (
            "Uploads",
            {
                "fields": (
                    "guest_uploads",
                    "guest_api_key",
                    "user_max_filesize_mb",
                    "guest_max_filesize_mb",
                    "enabled_formats",
                    "url_uploads",
                    "expirable_uploads",
                    "duplicate_policy",
                    "keep_exif",
                    "moderation",
                )
            },
        ),
        ("Image sizes", {"fields": ("thumb_width", "thumb_height", "medium_width")}),
        ("Storage and naming", {"fields": ("storage_mode", "file_naming")}),
        (
            "Flood protection (uploads per window; 0 = no limit)",
            {
                "fields": (
                    "flood_protection",
                    "flood_per_minute",
                    "flood_per_hour",
                    "flood_per_day",
                    "flood_per_week",
                    "flood_per_month",
                )
            },
        ),
        (
            "Public ids",
            {
                "classes": ("collapse",),
                "description": "Changing these changes every public URL of the site.",
                "fields": ("id_salt", "id_padding"),
            },
        ),
        (None, {"fields": ("updated_at",)}),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponseRedirect:
        # A singleton has no list: go straight to its form.
        obj = SiteSettings.load()
        return HttpResponseRedirect(reverse("admin:chevereto_sitesettings_change", args=[obj.pk]))


class IpBanForm(forms.ModelForm):
    class Meta:
        model = IpBan
        fields = ("ip", "message", "expires_at")
        help_texts = {
            "ip": "One address (203.0.113.7) or a CIDR range (10.0.0.0/8, 2001:db8::/32).",
        }

    # Set by IpBanAdmin.get_form: the address of the admin filling the form.
    admin_address: str = ""

    def clean_ip(self) -> str:
        ip = network_normalize(self.cleaned_data.get("ip", ""))
        if self.admin_address and ip_ban_covers(ip, self.admin_address):
            # Checked before any other work, a ban on the admin's own address would lock
            # them out of this dashboard too.
            raise ValidationError(f"{ip} covers your own address ({self.admin_address}).")
        return ip

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data.get("expires_at")
        if self.instance.pk is None and expires_at is not None and expires_at <= timezone.now():
            raise ValidationError("The expiry date must be in the future.")
        return expires_at


class BanStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[IpBan]) -> QuerySet[IpBan]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


@admin.register(IpBan)
class IpBanAdmin(admin.ModelAdmin):
    form = IpBanForm
    list_display = ("ip", "message", "state", "expires_at", "created_at", "created_by")
    list_filter = (BanStateFilter,)
    search_fields = ("ip", "message")
    readonly_fields = ("created_at", "updated_at", "created_by")
    date_hierarchy = "created_at"

    @admin.display(description="state")
    def state(self, obj: IpBan) -> str:
        return "active" if obj.is_active else "expired"

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.admin_address = getattr(request, "client_ip", "") or ""
        return form

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[IpBan], search_term: str
    ) -> tuple[QuerySet[IpBan], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # "Is this address banned?": the ranges covering it match too.
            covering = [ban.pk for ban in queryset if ip_ban_covers(ban.ip, term)]
            if covering:
                results = results | queryset.filter(pk__in=covering)
        return results, may_have_duplicates

    # Writes are audited by the dashboard site's mixin (dashboard.audit), one entry each.
    def save_model(self, request: HttpRequest, obj: IpBan, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[IpBan]) -> None:
        super().delete_queryset(request, queryset)
        ip_bans_clear_cache()  # a queryset delete skips IpBan.delete


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log: browsable, never editable, by anyone (superusers included)."""

    list_display = ("created_at", "actor_name", "action", "target_type", "target_repr", "ip")
    list_filter = ("source", "target_type", "action")
    search_fields = ("actor_name", "action", "target_repr", "target_id", "ip")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)
    readonly_fields = (
        "created_at",
        "actor",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "ip",
        "source",
        "details",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


admin.site.site_header = "Dashboard"
admin.site.site_title = "Dashboard"
admin.site.index_title = "Site administration"
