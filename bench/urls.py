"""The site's URLs plus a baseline view, for benchmarks only (ROOT_URLCONF=bench.urls)."""

from __future__ import annotations

import os
import uuid

from django.conf import settings
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from chevereto.urls import urlpatterns as site_urlpatterns


@csrf_exempt
def receive_and_write(request: HttpRequest) -> JsonResponse:
    """The least a Django view can do with an upload: receive the body, write the file."""
    request.upload_handlers = [
        MemoryFileUploadHandler(request),
        TemporaryFileUploadHandler(request),
    ]
    upload = request.FILES["source"]
    folder = settings.VAR_DIR / "bench-baseline"
    folder.mkdir(exist_ok=True)
    target = folder / uuid.uuid4().hex
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    size = os.path.getsize(target)
    return JsonResponse({"size": size})


urlpatterns = [path("bench/receive", receive_and_write), *site_urlpatterns]
