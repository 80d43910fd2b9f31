from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

from accounts.models import User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this email already exists.")
        return email

    def clean_username(self) -> str:
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

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
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
