from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts.models import User
from accounts.throttle import Lockout, login_failed, login_lockout, login_succeeded


class ThrottledLoginMixin:
    """Login throttling (accounts.throttle) for Django's login forms: a locked-out address
    or account is refused before the password is checked, each refused password counts,
    and a login clears the account's count. The view answers 429 when `lockout` is set."""

    lockout: Lockout | None = None

    def clean(self) -> dict[str, Any]:
        form: Any = self
        username = str(form.data.get("username", ""))
        password = form.data.get("password")
        if not username or not password:
            return super().clean()  # type: ignore[misc]
        self.lockout = login_lockout(request=form.request, username=username)
        if self.lockout is not None:
            raise ValidationError(
                "Too many failed logins. Try again in %(wait)s.",
                code="throttled",
                params={"wait": self.lockout.wait_text},
            )
        try:
            cleaned = super().clean()  # type: ignore[misc]
        except ValidationError:
            # Wrong password, unknown user or inactive account: all count alike.
            if form.user_cache is None:
                login_failed(request=form.request, username=username)
            raise
        login_succeeded(username=username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class DashboardLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_email(self) -> str:
        # A taken address is not refused here: that would tell anyone who has an account.
        # accounts.signup answers every address alike and mails its owner instead.
        return self.cleaned_data["email"].strip()

    def clean_username(self) -> str:
        # Usernames are public (every profile lives at /{username}): saying that one is
        # taken tells nothing a visit to that URL would not.
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError("A user with that username already exists.")
        return username


# -- /settings ----------------------------------------------------------------------------
# These forms only turn posted text into typed values; every rule about what a profile may
# hold is accounts.services.user_profile_update's, so the pages and the API agree.


class ProfileForm(forms.Form):
    name = forms.CharField(label="Name", required=False, max_length=60)
    bio = forms.CharField(
        label="Bio", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 4})
    )
    website = forms.CharField(
        label="Website",
        required=False,
        max_length=200,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    is_private = forms.BooleanField(
        label="Private profile",
        required=False,
        help_text=(
            "Only you see your profile page; your uploads and albums leave public listings "
            "and search. Links you share keep working."
        ),
    )


class AccountForm(forms.Form):
    email = forms.CharField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label="Current password",
        strip=False,
        help_text="Changing your email needs your password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(
        self, *args: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request
        self.lockout: Lockout | None = None

    def clean_password(self) -> str:
        # A guess of the current password here is a login guess: counted, and refused
        # (even when right) while the account or the address is locked out.
        password = self.cleaned_data["password"]
        assert self.request is not None, "a bound AccountForm needs the request"
        self.lockout = login_lockout(request=self.request, username=self.user.username)
        if self.lockout is not None:
            raise ValidationError(
                f"Too many failed attempts. Try again in {self.lockout.wait_text}."
            )
        if not self.user.check_password(password):
            login_failed(request=self.request, username=self.user.username)
            raise ValidationError("That is not your current password.")
        return password


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(zoneinfo.available_timezones())
    return [("", "The site's time zone"), *((zone, zone.replace("_", " ")) for zone in zones)]


class PreferencesForm(forms.Form):
    show_nsfw = forms.BooleanField(
        label="Show NSFW content",
        required=False,
        help_text="Listings show not-safe-for-work uploads unblurred.",
    )
    timezone = forms.ChoiceField(label="Time zone", required=False, choices=timezone_choices)
