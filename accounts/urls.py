from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("login", views.LoginView.as_view(), name="login"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("signup", views.signup, name="signup"),
    path("signup/confirm/<str:token>", views.signup_confirm_view, name="signup-confirm"),
    path("settings/password", views.PasswordChangeView.as_view(), name="settings-password"),
    path("settings/api", views.settings_api, name="settings-api"),
    path("password-reset", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete",
        views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("settings/api/sharex", views.settings_api_sharex, name="settings-api-sharex"),
]
