"""Reads for users, and the one answer to "may this person see this profile?"."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User


def user_get_by_username(username: str) -> User | None:
    """The user with this username, whatever its case (usernames are unique ignoring case)."""
    if not username or len(username) > 16:
        return None
    # LOWER(username) = lower(x): the expression of the case-insensitive unique index, so
    # the lookup is an index seek (`iexact` compiles to UPPER(...) or LIKE, which scan).
    return (
        User.objects.alias(username_lower=Lower("username"))
        .filter(username_lower=username.lower())
        .first()
    )


def user_profile_visible_to(
    *, viewer_user_id: int | None, viewer_is_staff: bool, user: User
) -> bool:
    """May this viewer see the profile and what hangs off it (its uploads, albums,
    followers, following)? A banned (inactive) user is gone for others; a private profile
    is shown only to its owner; staff see every profile."""
    if viewer_is_staff or (viewer_user_id is not None and viewer_user_id == user.pk):
        return True
    return user.is_active and not user.is_private


def users_listed_filter(*, viewer_user_id: int | None, viewer_is_staff: bool) -> Q:
    """`user_profile_visible_to` as a filter, for user listings (prefix-free)."""
    if viewer_is_staff:
        return Q()
    listed = Q(is_active=True, is_private=False)
    if viewer_user_id is not None:
        listed |= Q(pk=viewer_user_id)
    return listed


def users_listed(*, viewer_user_id: int | None, viewer_is_staff: bool) -> QuerySet[User]:
    return User.objects.filter(
        users_listed_filter(viewer_user_id=viewer_user_id, viewer_is_staff=viewer_is_staff)
    )


def user_profile_for(
    *, username: str, viewer_user_id: int | None, viewer_is_staff: bool
) -> User | None:
    """The user behind `username` if this viewer may see their profile, else None: an
    unknown name, a banned user and someone else's private profile all look the same."""
    user = user_get_by_username(username)
    if user is None or not user_profile_visible_to(
        viewer_user_id=viewer_user_id, viewer_is_staff=viewer_is_staff, user=user
    ):
        return None
    return user
