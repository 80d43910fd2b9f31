from __future__ import annotations

from collections.abc import Sequence

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from api_v4 import (
    admin_bans,
    admin_imports,
    admin_moderation,
    admin_site,
    admin_storages,
    admin_users,
    albums,
    images,
    people,
    social,
)
from api_v4.admin_views import IdDecodeView, IdEncodeView
from api_v4.errors import JsonErrorsMixin
from api_v4.views import AccountView


class _FormatQueryNegotiation(DefaultContentNegotiation):
    """`?format=json|yaml` on the schema, although URL_FORMAT_OVERRIDE is off site-wide
    (there `format` is an API V1 upload parameter, not a renderer switch)."""

    def select_renderer(
        self, request: Request, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        requested = format_suffix or request.query_params.get("format")
        return super().select_renderer(request, renderers, requested)


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    content_negotiation_class = _FormatQueryNegotiation


class DocsView(JsonErrorsMixin, SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served from `?script` instead of inline, so the
    page runs under the site's Content-Security-Policy (no inline script)."""

    template_name = "api_v4/swagger_ui.html"


# Unknown paths under /api/4/ fall through to the root URLconf's JSON 404 (chevereto.urls).
urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # Swagger UI from drf-spectacular-sidecar's local copy: the docs work offline.
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-v4-docs"),
    path("user/account/", AccountView.as_view(), name="api-v4-user-account"),
    path("account/", AccountView.as_view(), name="api-v4-account"),
    path(
        "admin/tools/id/<str:id>/encode/",
        IdEncodeView.as_view(),
        name="api-v4-admin-id-encode",
    ),
    path(
        "admin/tools/id/<str:id>/decode/",
        IdDecodeView.as_view(),
        name="api-v4-admin-id-decode",
    ),
]

# Each area keeps its own routes (user routes under user/, then public ones).
urlpatterns += images.urlpatterns + albums.urlpatterns + social.urlpatterns + people.urlpatterns

# Admin routes (staff only), one module per area.
urlpatterns += (
    admin_users.urlpatterns
    + admin_site.urlpatterns
    + admin_bans.urlpatterns
    + admin_moderation.urlpatterns
    + admin_imports.urlpatterns
    + admin_storages.urlpatterns
)
