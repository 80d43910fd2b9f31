"""The root URLconf: each app brings its own pages and endpoints."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("dashboard/", admin.site.urls),
    path("", include("accounts.urls")),
    path("api/4/", include("api_v4.urls")),
    path("", include("api_v1.urls")),
    path("", include("uploads.urls")),
]
