from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from chevereto import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", admin.site.urls),
    path("login", account_views.LoginView.as_view(), name="login"),
    path("logout", account_views.LogoutView.as_view(), name="logout"),
    path("signup", account_views.signup, name="signup"),
    path("settings/password", account_views.PasswordChangeView.as_view(), name="settings-password"),
    path("settings/api", account_views.settings_api, name="settings-api"),
    path("settings/api/sharex", account_views.settings_api_sharex, name="settings-api-sharex"),
    path("api-v1", views.api_v1_docs, name="api-v1-docs"),
    path("api/4/", include("api_v4.urls")),
    path("", include("api_v1.urls")),
    path("", include("uploads.urls")),
]
