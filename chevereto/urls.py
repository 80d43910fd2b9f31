"""The root URLconf: each app brings its own pages and endpoints."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from chevereto.core.errors import api_not_found

# A database that cannot be reached answers 503 (try again) wherever it is found out.
handler500 = "chevereto.core.errors.server_error"

urlpatterns = [
    path("dashboard/", admin.site.urls),
    path("", include("accounts.urls")),
    path("api/4/", include("api_v4.urls")),
    path("", include("api_v1.urls")),
    # After both APIs: whatever they do not serve under /api/ is a JSON 404, so it never
    # falls through to the web pages (or to Django's HTML 404).
    re_path(r"^api(?:/.*)?$", api_not_found, name="api-not-found"),
    path("", include("uploads.urls")),
    path("", include("web.urls")),
]
