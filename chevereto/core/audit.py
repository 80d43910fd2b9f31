"""The audit log's one writer: every admin action, from the dashboard, the API or a command,
is recorded through `audit_record` (or `audit_request`, which reads the actor and address
from the request)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from chevereto.core.models import AuditEntry


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_repr: str = "",
    ip: str | None = None,
    source: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry. `target` fills type, id and label from a model instance; the explicit
    arguments win (a deleted row's id, an IP range that is no model)."""
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)
    user = actor if getattr(actor, "pk", None) is not None else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=getattr(user, "username", "") if user is not None else "",
        action=action,
        target_type=target_type[:32],
        target_id=str(target_id)[:64],
        target_repr=target_repr[:200],
        ip=ip or None,
        source=source[:16],
        details=details or {},
    )


def audit_request(
    request: HttpRequest, *, action: str, source: str = "dashboard", **kwargs: Any
) -> AuditEntry:
    """`audit_record` for an action made through a request (page, dashboard or API)."""
    ip = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR") or None
    return audit_record(
        actor=getattr(request, "user", None), action=action, ip=ip, source=source, **kwargs
    )
