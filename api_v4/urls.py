from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from api_v4.views import AccountView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("account/", AccountView.as_view(), name="api-v4-account"),
]
