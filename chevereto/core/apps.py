from __future__ import annotations

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "chevereto.core"
    # The label the tables and migrations have always had.
    label = "chevereto"
    verbose_name = "Site"
    default_auto_field = "django.db.models.BigAutoField"
