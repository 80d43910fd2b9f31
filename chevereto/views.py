from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chevereto.models import SiteSettings
from uploads.files import variant_file
from uploads.selectors import image_viewer_path, images_live


def home(request: HttpRequest) -> HttpResponse:
    # Public uploads only: uploads in albums that are not public stay off the front page.
    recent = (
        images_live()
        .filter(is_approved=True)
        .exclude(album__privacy__in=["private", "private_but_link", "password"])
        .order_by("-created_at")[:24]
    )
    items = [
        {"image": image, "viewer": image_viewer_path(image), "thumb": variant_file(image, "thumb")}
        for image in recent
    ]
    return render(request, "chevereto/home.html", {"items": items})


def api_v1_docs(request: HttpRequest) -> HttpResponse:
    site = SiteSettings.load()
    return render(
        request,
        "chevereto/api_v1.html",
        {
            "endpoint": request.build_absolute_uri("/api/1/upload"),
            "guest_key": site.guest_api_key if site.guest_uploads else None,
        },
    )
