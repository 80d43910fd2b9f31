from __future__ import annotations

from django.http import HttpRequest

from chevereto.core.models import SiteSettings


def site(request: HttpRequest) -> dict[str, object]:
    return {"site": SiteSettings.load()}
