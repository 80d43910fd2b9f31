"""Every change made through a dashboard form or the stock delete action is one audit
entry (chevereto.core.audit), besides Django's own LogEntry.

The site mixes `AuditedAdminMixin` into every ModelAdmin it registers, so no app's admin
can forget it. Custom actions that call a service write their own entry (the service's
or the action's), and never pass through these hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.http import HttpRequest

from chevereto.core.audit import audit_request

# An action over many rows names at most this many of them in its entry.
_MAX_IDS = 200


def _action(obj: models.Model, verb: str) -> str:
    return f"{obj._meta.model_name}.{verb}"


class AuditedAdminMixin:
    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        audit_request(request, action=_action(obj, "add"), target=obj, details={"log": message})
        return entry

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        audit_request(request, action=_action(obj, "change"), target=obj, details={"log": message})
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> Any:
        # Called before the rows go: their ids and names are still there to record.
        objects = list(queryset)
        entry = super().log_deletions(request, objects)  # type: ignore[misc]
        if len(objects) == 1:
            audit_request(request, action=_action(objects[0], "delete"), target=objects[0])
        elif objects:
            first = objects[0]
            audit_request(
                request,
                action=_action(first, "delete"),
                target_type=first._meta.model_name or "",
                target_repr=f"{len(objects)} {first._meta.verbose_name_plural}",
                details={"ids": [str(o.pk) for o in objects[:_MAX_IDS]], "count": len(objects)},
            )
        return entry
