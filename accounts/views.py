from __future__ import annotations

import base64
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import SignupForm
from accounts.services import api_key_active, api_key_create, api_key_revoke
from accounts.sharex import sharex_config, sharex_config_response, sharex_filename
from chevereto.core.models import SiteSettings


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("/")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready.")
        return redirect("/")
    return render(request, "accounts/signup.html", {"form": form})


class _SiteContext:
    """Django's login and logout views put a `site` of their own (the request's host) into
    the context, over the one every page's layout reads: the site's settings."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["site"] = SiteSettings.load()
        return context


class LoginView(_SiteContext, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(_SiteContext, auth_views.LogoutView):
    """Logout by POST (CSRF-protected); a GET shows a confirmation button."""

    http_method_names = ["get", "post", "options"]
    template_name = "accounts/logout.html"

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("/")
        return render(request, self.template_name)


class _RefusedFormIs400:
    """A refused form comes back with its messages and a 400, as every refused form here."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = 400
        return response


class PasswordResetView(_RefusedFormIs400, auth_views.PasswordResetView):
    """Ask for a reset link. Every address gets the same answer (the "done" page), so the
    form cannot be used to find out who has an account."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    def get_form(self, form_class: type | None = None) -> PasswordResetForm:
        form = super().get_form(form_class)
        form.fields["email"].widget.attrs.update(autofocus=True)
        return form

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # The email names the site as its settings do, not by its host name.
        self.extra_email_context = {"site_name": SiteSettings.load().site_name}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(_RefusedFormIs400, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(_RefusedFormIs400, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"

    def get_success_url(self) -> str:
        messages.success(self.request, "Your password has been changed.")
        return reverse("settings-password")


@login_required
def settings_api(request: HttpRequest) -> HttpResponse:
    """The API key page. A new key is shown in full in this response only."""
    new_key: str | None = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action in {"create", "regenerate"}:
            new_key = api_key_create(user=request.user).key
        elif action == "revoke":
            if api_key_revoke(user=request.user):
                messages.success(request, "Your API key has been revoked.")
            return redirect("settings-api")
        else:
            return HttpResponse("Unknown action", status=400)
    sharex_href = None
    if new_key is not None:
        # The uploader file for this very key, built into the page: the key is never
        # stored anywhere it could be fetched again.
        config = json.dumps(sharex_config(request, key=new_key), indent=2).encode()
        sharex_href = "data:application/json;base64," + base64.b64encode(config).decode()
    response = render(
        request,
        "accounts/settings_api.html",
        {
            "api_key": api_key_active(user=request.user),
            "new_key": new_key,
            "sharex_href": sharex_href,
            "sharex_filename": sharex_filename(request),
        },
    )
    # The full key must not be kept by any cache or shown again by the back button.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def settings_api_sharex(request: HttpRequest) -> HttpResponse:
    """Make a fresh key and hand it out inside a ShareX custom uploader file."""
    new = api_key_create(user=request.user)
    return sharex_config_response(request, key=new.key)
