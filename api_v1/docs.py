"""The API V1 documentation page for users, with the guest key when guest uploads are on."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chevereto.core.models import SiteSettings


def api_v1_docs(request: HttpRequest) -> HttpResponse:
    site = SiteSettings.load()
    return render(
        request,
        "api_v1/docs.html",
        {
            "endpoint": request.build_absolute_uri("/api/1/upload"),
            "guest_key": site.guest_api_key if site.guest_uploads else None,
        },
    )
