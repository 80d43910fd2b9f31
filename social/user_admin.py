"""What staff do to accounts, shared by the dashboard and `/api/4/admin/users/`: create an
account, change its role, delete it while keeping its uploads.

Bans are `accounts.bans` (user_ban / user_unban) and deleting an account *with* its content
is `moderation.services.purge_start(delete_user=True)`; these functions cover the rest.
They live in the social layer because deleting an account touches every layer below it
(uploads, albums, the like and follow counters). Callers write the audit entry: they know
the request (actor and address).
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import User
from albums.models import Album
from social.models import Follow, Like
from social.stats import counters_rebuild
from uploads.models import Image

Role = Literal["user", "manager", "admin"]
ROLES: tuple[Role, ...] = ("user", "manager", "admin")


def user_role_of(user: User) -> Role:
    """Chevereto's three roles over Django's flags: an admin is a superuser, a manager is
    staff (the dashboard, no user or settings powers beyond what staff get)."""
    if user.is_superuser:
        return "admin"
    if user.is_staff:
        return "manager"
    return "user"


def _role_flags(role: str) -> dict[str, bool]:
    if role not in ROLES:
        raise ValidationError({"role": f"One of {', '.join(ROLES)}."})
    return {"is_staff": role != "user", "is_superuser": role == "admin"}


def user_admin_create(
    *,
    actor: User,
    username: str,
    email: str,
    password: str | None = None,
    name: str = "",
    role: str = "user",
) -> User:
    """A new account made by staff. Every problem is reported at once, per field."""
    errors: dict[str, str] = {}
    username = username.strip()
    email = email.strip()
    probe = User(username=username, email=email, name=name)
    try:
        probe.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if "username" not in errors and User.objects.filter(username__iexact=username).exists():
        errors["username"] = "A user with that username already exists."
    if not email:
        errors["email"] = "This field is required."
    elif "email" not in errors:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid email address."
        else:
            if User.objects.filter(email__iexact=email).exists():
                errors["email"] = "An account with this email already exists."
    if password:
        try:
            validate_password(password, user=probe)
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    try:
        flags = _role_flags(role)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        flags = {}
    if flags.get("is_superuser") and not actor.is_superuser:
        errors["role"] = "Only an admin can make an admin."
    if errors:
        raise ValidationError(errors)
    # No password: the account cannot log in until someone resets it (a password reset mail).
    return User.objects.create_user(
        username=username, email=email, password=password or None, name=name, **flags
    )


class RoleChangeRefused(Exception):
    """A role change this actor may not make (a 403, not a bad value)."""


def user_role_set(*, actor: User, user: User, role: str) -> bool:
    """Give `user` a role; True if it changed. Only admins make or unmake admins, and
    nobody changes their own role (the last admin cannot lock everyone out by mistake)."""
    flags = _role_flags(role)
    if user.pk == actor.pk:
        raise RoleChangeRefused("You cannot change your own role.")
    if (flags["is_superuser"] or user.is_superuser) and not actor.is_superuser:
        raise RoleChangeRefused("Only an admin can make or unmake an admin.")
    if user.is_staff == flags["is_staff"] and user.is_superuser == flags["is_superuser"]:
        return False
    user.is_staff = flags["is_staff"]
    user.is_superuser = flags["is_superuser"]
    user.save(update_fields=["is_staff", "is_superuser"])
    return True


def user_delete_keep_content(*, user: User) -> dict[str, int]:
    """Delete the account; its uploads stay, as guest uploads outside any album (Chevereto
    does the same; those that were in a non-public album wait for approval), and its
    albums go. The likes and follows of the account go with it,
    and the counters they moved (likes of what it liked, followers of whom it followed)
    are recounted. Returns what was kept and deleted."""
    with transaction.atomic():
        liked_images = list(
            Like.objects.filter(user=user, image__isnull=False).values_list("image_id", flat=True)
        )
        liked_albums = list(
            Like.objects.filter(user=user, album__isnull=False)
            .exclude(album__owner=user)
            .values_list("album_id", flat=True)
        )
        people = set(Follow.objects.filter(follower=user).values_list("followed_id", flat=True))
        people |= set(Follow.objects.filter(followed=user).values_list("follower_id", flat=True))
        # What the account kept out of sight must not turn public by losing its album:
        # uploads of private, link-only and password albums stay, but awaiting approval
        # (hidden from everyone but staff), for the admins to publish or remove.
        Image.objects.filter(user=user, album__isnull=False).exclude(
            album__privacy=Album.Privacy.PUBLIC
        ).update(is_approved=False)
        kept = Image.objects.filter(user=user).update(user=None, album=None)
        albums = Album.objects.filter(owner=user).count()
        # One DELETE: sub-albums, album likes and covers cascade with their rows.
        Album.objects.filter(owner=user).delete()
        User.objects.filter(pk=user.pk).delete()
        counters_rebuild(user_ids=people, album_ids=liked_albums, image_ids=liked_images)
    return {"images_kept": kept, "albums_deleted": albums}
