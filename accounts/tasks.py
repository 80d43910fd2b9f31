"""Celery tasks of accounts."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth.forms import PasswordResetForm


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def password_reset_send(
    *,
    email: str,
    domain: str,
    use_https: bool,
    site_name: str,
    subject_template_name: str,
    email_template_name: str,
) -> None:
    """Email a reset link to the active accounts with this address (none: nothing is sent).

    Run by a worker, so the request that asked for it does the same work and takes the
    same time whether the address has an account or not.
    """
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name=subject_template_name,
        email_template_name=email_template_name,
        extra_email_context={"site_name": site_name},
    )
