from __future__ import annotations

import base64
import json
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm, SignupForm
from accounts.services import api_key_active, api_key_create, api_key_revoke
from accounts.sharex import sharex_config, sharex_config_response, sharex_filename
from accounts.signup import (
    SignupLinkInvalid,
    signup_confirm,
    signup_pending,
    signup_request,
)
from accounts.tasks import password_reset_send
from accounts.throttle import (
    Lockout,
    login_failed,
    login_lockout,
    signup_emailed,
    signup_lockout,
)
from chevereto.core.models import SiteSettings

log = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Sign up, then confirm by email. A new address and a taken one get the same page
    (accounts.signup): the form never says who has an account."""
    if request.user.is_authenticated:
        return redirect("/")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lockout = signup_lockout(request=request)
        if lockout is not None:
            form.add_error(None, f"Too many signups from your address. Try again in "
                                 f"{lockout.wait_text}.")  # fmt: skip
            response = render(request, "accounts/signup.html", {"form": form}, status=429)
            response["Retry-After"] = str(lockout.retry_after)
            return response
        signup_emailed(request=request)
        data = form.cleaned_data
        sent = signup_request(
            username=data["username"],
            email=data["email"],
            password=data["password1"],
            link_for=lambda token: request.build_absolute_uri(
                reverse("signup-confirm", kwargs={"token": token})
            ),
            site_name=SiteSettings.load().site_name,
        )
        if sent:
            return render(request, "accounts/signup_sent.html", {"email": data["email"]})
        form.add_error(None, "We could not send the confirmation email. Try again later.")
        return render(request, "accounts/signup.html", {"form": form}, status=503)
    return render(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def signup_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the confirmation email: a button (a POST), so that mail scanners that
    fetch links do not use it up."""
    try:
        pending = signup_pending(token=token)
    except SignupLinkInvalid:
        return render(request, "accounts/signup_confirm.html", {"invalid": True}, status=404)
    if request.method == "POST":
        try:
            user = signup_confirm(token=token)
        except SignupLinkInvalid:
            return render(request, "accounts/signup_confirm.html", {"invalid": True}, status=409)
        login(request, user, backend="accounts.backends.LoginBackend")
        messages.success(request, "Welcome! Your account is ready.")
        return redirect("/")
    response = render(request, "accounts/signup_confirm.html", {"username": pending.username})
    # The token is in this page's URL: no other site may see it in a Referer. (Not
    # "no-referrer": browsers then send `Origin: null` with the form, which CSRF refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


class _SiteContext:
    """Django's login and logout views put a `site` of their own (the request's host) into
    the context, over the one every page's layout reads: the site's settings."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["site"] = SiteSettings.load()
        return context


def throttled_response(response: HttpResponse, form: Any) -> HttpResponse:
    """A login form refused by the throttle (accounts.forms.ThrottledLoginMixin) answers
    429 with Retry-After; its message is on the form."""
    lockout = getattr(form, "lockout", None)
    if lockout is not None:
        response.status_code = 429
        response["Retry-After"] = str(lockout.retry_after)
    return response


class LoginView(_SiteContext, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm

    def form_invalid(self, form: Any) -> HttpResponse:
        return throttled_response(super().form_invalid(form), form)


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
        # Whether the address has an account is looked up by a worker, which sends the
        # email: this request does the same for every address, in the same time.
        job = {
            "email": form.cleaned_data["email"],
            "domain": self.request.get_host(),
            "use_https": self.request.is_secure(),
            # The email names the site as its settings do, not by its host name.
            "site_name": SiteSettings.load().site_name,
            "subject_template_name": self.subject_template_name,
            "email_template_name": self.email_template_name,
        }
        try:
            password_reset_send.delay(**job)
        except Exception:
            # The broker is down: the link is sent from here rather than not at all.
            log.warning("could not queue a password reset email; sending it now", exc_info=True)
            password_reset_send(**job)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(_RefusedFormIs400, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(_RefusedFormIs400, auth_views.PasswordChangeView):
    """Guessing the current password here is a login guess: the login throttle counts it
    and its lockout applies (a stolen session must not become a password oracle)."""

    template_name = "accounts/password_change.html"

    def form_valid(self, form: Any) -> HttpResponse:
        lockout = login_lockout(request=self.request, username=self.request.user.username)
        if lockout is not None:
            return self._locked(form, lockout)
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        username = self.request.user.username
        lockout = login_lockout(request=self.request, username=username)
        if lockout is not None:
            return self._locked(form, lockout)
        if "old_password" in form.errors:
            login_failed(request=self.request, username=username)
        return super().form_invalid(form)

    def _locked(self, form: Any, lockout: Lockout) -> HttpResponse:
        form.errors.clear()
        form.add_error(None, f"Too many failed attempts. Try again in {lockout.wait_text}.")
        response = super().form_invalid(form)
        response.status_code = 429
        response["Retry-After"] = str(lockout.retry_after)
        return response

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
