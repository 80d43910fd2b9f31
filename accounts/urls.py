from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("login", views.LoginView.as_view(), name="login"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("signup", views.signup, name="signup"),
    path("settings/password", views.PasswordChangeView.as_view(), name="settings-password"),
    path("settings/api", views.settings_api, name="settings-api"),
    path("settings/api/sharex", views.settings_api_sharex, name="settings-api-sharex"),
]
