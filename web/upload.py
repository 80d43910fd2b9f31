"""The upload page (the home page for those who may upload) and its upload endpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from albums.selectors import GUEST
from uploads.files import variant_file
from uploads.selectors import image_viewer_path, images_visible_to


def home(request: HttpRequest) -> HttpResponse:
    # The front page is the same for everyone, as a guest sees it: staff and owners would
    # otherwise get private and moderated thumbnails on a page meant for showing around.
    recent = images_visible_to(viewer=GUEST).select_related("user").order_by("-created_at")[:24]
    items = [
        {"image": image, "viewer": image_viewer_path(image), "thumb": variant_file(image, "thumb")}
        for image in recent
    ]
    return render(request, "uploads/home.html", {"items": items})


urlpatterns: list[URLPattern] = [path("", home, name="home")]
