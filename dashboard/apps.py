from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DashboardConfig(AppConfig):
    name = "dashboard"
    default_auto_field = "django.db.models.BigAutoField"
    # Two configs live here: this one is the app "dashboard" in INSTALLED_APPS.
    default = True


class DashboardAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the dashboard's site as the default one (`admin.site`,
    `@admin.register`): every ModelAdmin of every app lands in it, audited."""

    default_site = "dashboard.sites.DashboardSite"
    # Named in INSTALLED_APPS by its path; "dashboard" alone means DashboardConfig.
    default = False
