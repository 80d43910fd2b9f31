"""User bans: a banned account is inactive, so its content disappears through the
visibility rule (uploads.selectors), its API keys are revoked and its sessions deleted.

An unban reactivates the account; revoked keys stay revoked (the user makes a new one on
/settings/api), so a key that leaked before the ban does not come back with it.

These services do not write the audit log: the caller records its one entry.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_revoke

# Sessions are decoded a batch at a time: a site has many, a user few.
_SESSION_BATCH = 2000


def user_sessions_delete(*, user: User) -> int:
    """Delete every live database session logged in as `user`; returns how many.

    The session store keys rows by session key, not by user, so the live ones are read and
    decoded. Even a missed one could not act: authentication refuses an inactive user.
    """
    wanted = str(user.pk)
    doomed: list[str] = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).only(
        "session_key", "session_data"
    )
    for session in live.iterator(chunk_size=_SESSION_BATCH):
        if str(session.get_decoded().get(SESSION_KEY, "")) == wanted:
            doomed.append(session.session_key)
    deleted = 0
    for start in range(0, len(doomed), _SESSION_BATCH):
        deleted += Session.objects.filter(
            session_key__in=doomed[start : start + _SESSION_BATCH]
        ).delete()[0]
    return deleted


def user_ban(*, user: User, actor: Any = None, reason: str = "") -> User:
    """Ban `user`: deactivate the account, revoke its API keys, end its sessions.

    Refused for the actor's own account and, unless the actor is a superuser, for staff.
    Banning a banned user again is harmless (keys and sessions are swept again).
    """
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise ValidationError("You cannot ban your own account.")
    if (user.is_staff or user.is_superuser) and not getattr(actor, "is_superuser", actor is None):
        raise ValidationError("Only a superuser can ban a staff account.")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        api_key_revoke(user=user)
    user.is_active = False
    # Outside the transaction: the sweep reads every live session and may take a while.
    user_sessions_delete(user=user)
    return user


def user_unban(*, user: User, actor: Any = None) -> User:
    """Reactivate a banned account. Its old API keys stay revoked."""
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    return user
