from __future__ import annotations

from django.urls import re_path

from api_v1.views import UploadView

urlpatterns = [
    re_path(r"^(?:api/)?1/upload/?$", UploadView.as_view(), name="api-v1-upload"),
]
