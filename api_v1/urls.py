from __future__ import annotations

from django.urls import path

from api_v1.docs import api_v1_docs
from api_v1.views import UploadView


class UploadAliasView(UploadView):
    """The same endpoint at the other paths Chevereto clients use; documented once."""

    schema = None


urlpatterns = [
    path("api-v1", api_v1_docs, name="api-v1-docs"),
    path("api/1/upload", UploadView.as_view(), name="api-v1-upload"),
    path("api/1/upload/", UploadAliasView.as_view()),
    path("1/upload", UploadAliasView.as_view()),
    path("1/upload/", UploadAliasView.as_view()),
]
