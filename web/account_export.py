"""`/settings/export`: a user downloads their own data (uploads by album + manifest.json,
imports.export). GET explains and offers the button; the POST (CSRF-protected, so no link,
prefetcher or cross-site page can start the work) answers the zip."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods

from imports.export import export_filename, user_export


@login_required
@require_http_methods(["GET", "POST"])
def settings_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        return FileResponse(
            user_export(user=user),
            as_attachment=True,
            filename=export_filename(user),
            content_type="application/zip",
        )
    return render(request, "web/account/export.html", {"section": "export"})


urlpatterns: list[URLPattern] = [
    path("settings/export", settings_export, name="settings-export"),
]
