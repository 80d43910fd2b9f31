from __future__ import annotations

from django.http import HttpRequest

from chevereto.core.models import SiteSettings
from social.selectors import notifications_for


def site(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)

    def unread_notifications() -> int:
        # A callable: the template engine calls it only on pages that show the badge.
        if user is None or not user.is_authenticated:
            return 0
        return notifications_for(user=user, is_read=False).count()

    return {"site": SiteSettings.load(), "unread_notifications": unread_notifications}
