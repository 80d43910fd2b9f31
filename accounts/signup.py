"""Signing up by email confirmation, without telling anyone which addresses have accounts.

Every valid signup gets the same answer ("check your inbox") and sends one email to the
address given: a link that finishes the signup when the address is new, a notice to the
account's owner when it is taken. The page cannot say which happened, and both paths do
the same work (one password hash, one email), so neither can its timing.

Nothing is written to the users table before the link is used: the pending signup (its
username, address and password hash) waits in the shared cache under a digest of a random
token that only the email holds. An unconfirmed signup therefore reserves nothing and
never shows up anywhere; it expires after SIGNUP_CONFIRM_SECONDS.

Usernames are different: they are public (every profile is at /{username}), so the signup
form says when one is taken; hiding it would hide nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from accounts.models import User

log = logging.getLogger(__name__)

SIGNUP_CONFIRM_SECONDS = 2 * 24 * 3600


class SignupLinkInvalid(Exception):
    """The link is unknown, used or expired, or its username or address was taken since."""


@dataclass(frozen=True)
class PendingSignup:
    username: str
    email: str
    password_hash: str


def _cache_key(token: str) -> str:
    return "signup:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()


def signup_request(
    *, username: str, email: str, password: str, link_for: Any, site_name: str
) -> bool:
    """Start a signup: mail a confirmation link, or the owner of a taken address a notice.

    `link_for(token)` is the absolute URL of the confirmation page. Returns whether the
    email went out (the caller says so alike in both cases).
    """
    email = email.strip()
    # Hashed on both paths: the new account's hash, or the same work thrown away.
    password_hash = make_password(password)
    existing = User.objects.filter(email__iexact=email).order_by("pk").first()
    if existing is not None:
        subject = f"Someone tried to sign up on {site_name} with your email"
        body = (
            f"Hello {existing.username},\n\n"
            f"Someone (perhaps you) tried to create an account on {site_name} with this "
            f"email address, which already belongs to your account ({existing.username}).\n"
            "No new account was made. If it was you, log in, or ask for a password reset "
            "link from the login page if you forgot your password.\n\n"
            "If it was not you, ignore this email: nothing has changed.\n"
        )
    else:
        token = secrets.token_urlsafe(32)
        pending = {"username": username, "email": email, "password_hash": password_hash}
        cache.set(_cache_key(token), pending, SIGNUP_CONFIRM_SECONDS)
        subject = f"Confirm your account on {site_name}"
        body = (
            f"Hello {username},\n\n"
            f"To finish creating your account on {site_name}, open this link:\n\n"
            f"{link_for(token)}\n\n"
            "The link works once, within two days. If you did not sign up, ignore this "
            "email: no account is made.\n"
        )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    except (OSError, ValueError) as exc:  # SMTP errors are OSErrors
        log.warning("signup email not sent: %s", type(exc).__name__)
        return False
    return True


def signup_pending(*, token: str) -> PendingSignup:
    data = cache.get(_cache_key(token)) if token else None
    if not isinstance(data, dict):
        raise SignupLinkInvalid
    return PendingSignup(**data)


def signup_confirm(*, token: str) -> User:
    """Make the account of a pending signup (once): its username and address must still
    be free, since other signups may have taken them while this one waited."""
    pending = signup_pending(token=token)
    if User.objects.alias(lower=Lower("username")).filter(
        lower=pending.username.lower()
    ).exists() or email_taken(pending.email):
        cache.delete(_cache_key(token))
        raise SignupLinkInvalid
    try:
        with transaction.atomic():
            user = User(username=pending.username, email=pending.email)
            user.password = pending.password_hash
            user.full_clean(exclude=["password"])
            user.save()
    except (IntegrityError, ValidationError):
        raise SignupLinkInvalid from None
    cache.delete(_cache_key(token))
    return user
