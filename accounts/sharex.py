"""ShareX custom uploader files (.sxcu) for our API V1 endpoint."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse

from chevereto.core.models import SiteSettings


def sharex_config(request: HttpRequest, *, key: str) -> dict[str, object]:
    """A ShareX custom uploader: multipart POST of `source`, key in the X-API-Key header."""
    site = SiteSettings.load()
    return {
        "Version": "17.0.0",
        "Name": f"{site.site_name} ({request.get_host()})",
        "DestinationType": "ImageUploader, FileUploader",
        "RequestMethod": "POST",
        "RequestURL": request.build_absolute_uri("/api/1/upload"),
        "Headers": {"X-API-Key": key},
        "Body": "MultipartFormData",
        "Arguments": {"format": "json"},
        "FileFormName": "source",
        "URL": "{json:image.url}",
        "ThumbnailURL": "{json:image.thumb.url}",
        "DeletionURL": "{json:image.delete_url}",
        "ErrorMessage": "{json:error.message}",
    }


def sharex_filename(request: HttpRequest) -> str:
    host = request.get_host().split(":")[0].replace(".", "-") or "site"
    return f"{host}.sxcu"


def sharex_config_response(request: HttpRequest, *, key: str) -> HttpResponse:
    body = json.dumps(sharex_config(request, key=key), indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{sharex_filename(request)}"'
    response["Cache-Control"] = "no-store"
    return response
