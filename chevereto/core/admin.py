from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from chevereto.core.models import FORMAT_CHOICES, SiteSettings


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


admin.site.site_header = "Dashboard"
admin.site.site_title = "Dashboard"
admin.site.index_title = "Site administration"
