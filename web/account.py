"""Web pages: the account's settings (profile, email, preferences, avatar and background).

The password and API key pages are accounts' own (accounts/views.py); these need the upload
pipeline (profile images), so they live in the pages layer. Every section posts to its own
route and goes back to /settings; a refused form is the whole page again, with a 400.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import AccountForm, PreferencesForm, ProfileForm
from accounts.models import User
from accounts.services import user_profile_update
from uploads import sources
from uploads.errors import UploadError
from uploads.policy import max_upload_bytes
from uploads.profile_assets import profile_image_clear, profile_image_precheck, profile_image_set
from web import account_notifications

SECTIONS = ("profile", "account", "preferences", "avatar", "background")


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _initial(user: User) -> dict[str, forms.Form]:
    return {
        "profile_form": ProfileForm(
            initial={
                "name": user.name,
                "bio": user.bio,
                "website": user.website,
                "is_private": user.is_private,
            },
            prefix="profile",
        ),
        "account_form": AccountForm(initial={"email": user.email}, user=user, prefix="account"),
        "preferences_form": PreferencesForm(
            initial={"show_nsfw": user.show_nsfw, "timezone": user.timezone},
            prefix="preferences",
        ),
    }


def _settings_page(request: HttpRequest, *, status: int = 200, **overrides: Any) -> HttpResponse:
    user = request.user
    context: dict[str, Any] = {
        **_initial(user),
        "section": "profile",
        "avatar_url": "/" + user.avatar if user.avatar else None,
        "background_url": "/" + user.background if user.background else None,
        "initial": (user.display_name or user.username)[:1].upper(),
        "max_upload_mb": max_upload_bytes(user=user) / (1024 * 1024),
        "image_errors": {},
    }
    context.update(overrides)
    return render(request, "web/account/settings.html", context, status=status)


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


def _save(request: HttpRequest, form: forms.Form, fields: dict[str, Any]) -> bool:
    """Through the one profile service; its field errors go back into `form`."""
    try:
        user_profile_update(user=request.user, **fields)
    except ValidationError as error:
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
        return False
    return True


def _section_post(
    request: HttpRequest,
    *,
    section: str,
    form: forms.Form,
    fields_of: Any,
    done: str,
) -> HttpResponse:
    if form.is_valid() and _save(request, form, fields_of(form.cleaned_data)):
        messages.success(request, done)
        return _see_other(f"/settings#{section}")
    return _settings_page(request, status=400, section=section, **{f"{section}_form": form})


@login_required
@require_POST
def settings_profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST, prefix="profile")
    return _section_post(
        request,
        section="profile",
        form=form,
        fields_of=lambda data: {
            "name": data["name"],
            "bio": data["bio"],
            "website": data["website"],
            "is_private": data["is_private"],
        },
        done="Your profile has been saved.",
    )


@login_required
@require_POST
def settings_account(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST, user=request.user, request=request, prefix="account")
    response = _section_post(
        request,
        section="account",
        form=form,
        fields_of=lambda data: {"email": data["email"]},
        done="Your email has been changed.",
    )
    if form.lockout is not None:
        response.status_code = 429
        response["Retry-After"] = str(form.lockout.retry_after)
    return response


@login_required
@require_POST
def settings_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST, prefix="preferences")
    return _section_post(
        request,
        section="preferences",
        form=form,
        fields_of=lambda data: {"show_nsfw": data["show_nsfw"], "timezone": data["timezone"]},
        done="Your preferences have been saved.",
    )


# -- avatar and background -------------------------------------------------------------------

_IMAGE_WORDS = {"avatar": "avatar", "background": "background image"}


class _NoFile(Exception):
    """The upload form was sent without a file."""


def _set_image(request: HttpRequest, kind: str) -> None:
    """The posted file through the upload pipeline's checks, as API V4's people endpoints
    take it (uploads.sources); an UploadError says what was wrong with it."""
    user = request.user
    uploaded = request.FILES.get("image")
    if uploaded is None:
        raise _NoFile
    # Before the file is read: a user who may not upload is told so at once.
    profile_image_precheck(user=user, origin=sources.Origin.FILE)
    source = sources.from_uploaded_file(uploaded, max_bytes=max_upload_bytes(user=user))
    with source:
        profile_image_set(user=user, kind=kind, source=source)


def _profile_image(request: HttpRequest, kind: str) -> HttpResponse:
    word = _IMAGE_WORDS[kind]
    try:
        action = request.POST.get("action", "upload")
        if action == "remove":
            profile_image_clear(user=request.user, kind=kind)
            messages.success(request, f"Your {word} has been removed.")
        elif action == "upload":
            _set_image(request, kind)
            messages.success(request, f"Your {word} has been changed.")
        else:
            return HttpResponse("Unknown action", status=400, content_type="text/plain")
    except UploadError as error:
        return _settings_page(
            request, status=400, section=kind, image_errors={kind: _readable(error, word)}
        )
    except _NoFile:
        return _settings_page(
            request, status=400, section=kind, image_errors={kind: "Choose a picture first."}
        )
    except RequestDataTooBig:
        return _settings_page(
            request, status=400, section=kind, image_errors={kind: "That file is too big."}
        )
    return _see_other(f"/settings#{kind}")


def _readable(error: UploadError, word: str) -> str:
    """The pipeline's message, said for a person choosing a picture."""
    message = error.message.rstrip(".")
    return f"That file cannot be your {word}. {message[:1].upper()}{message[1:]}."


@login_required
@require_POST
def settings_avatar(request: HttpRequest) -> HttpResponse:
    return _profile_image(request, "avatar")


@login_required
@require_POST
def settings_background(request: HttpRequest) -> HttpResponse:
    return _profile_image(request, "background")


urlpatterns: list[URLPattern] = [
    path("settings", settings_page, name="settings"),
    path("settings/profile", settings_profile, name="settings-profile"),
    path("settings/account", settings_account, name="settings-account"),
    path("settings/preferences", settings_preferences, name="settings-preferences"),
    path("settings/avatar", settings_avatar, name="settings-avatar"),
    path("settings/background", settings_background, name="settings-background"),
    *account_notifications.urlpatterns,
]
