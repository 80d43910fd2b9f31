"""The dashboard: Django's admin site at /dashboard/, with a home page of figures, charts
and the latest activity, and every registered ModelAdmin audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models.base import ModelBase
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from dashboard.audit import AuditedAdminMixin


class DashboardSite(admin.AdminSite):
    site_header = "Dashboard"
    site_title = "Dashboard"
    index_title = "Site administration"
    index_template = "dashboard/index.html"

    def register(
        self,
        model_or_iterable: ModelBase | Any,
        admin_class: type[admin.ModelAdmin] | None = None,
        **options: Any,
    ) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)

    @property
    def login_form(self) -> type:  # type: ignore[override]
        # Throttled like /login (accounts.throttle); imported here, as the selectors below.
        from accounts.forms import DashboardLoginForm

        return DashboardLoginForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from accounts.views import throttled_response

        response = super().login(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        return throttled_response(response, context.get("form"))

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        # Imported here: the selectors read models, which the admin site must not import
        # while the app registry is still loading.
        from dashboard.selectors import dashboard_home

        context = {**dashboard_home(), "audit_url": self._audit_url(request)}
        return super().index(request, extra_context={**context, **(extra_context or {})})

    def _audit_url(self, request: HttpRequest) -> str | None:
        """The audit log's list, when its admin is registered and the user may read it."""
        from chevereto.core.models import AuditEntry

        model_admin = self._registry.get(AuditEntry)
        if model_admin is None or not model_admin.has_view_permission(request):
            return None
        try:
            return reverse(f"{self.name}:chevereto_auditentry_changelist")
        except NoReverseMatch:
            return None
