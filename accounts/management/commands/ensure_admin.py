from __future__ import annotations

import os
import secrets

from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = (
        "Create an admin account when the site has none, and say how to log in. "
        "ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD set its details."
    )

    def handle(self, *args: object, **options: object) -> None:
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Admin account exists: log in at /login, dashboard at /dashboard/")
            return
        username = os.environ.get("ADMIN_USERNAME", "admin")
        email = os.environ.get("ADMIN_EMAIL", "admin@example.com")
        password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        shown = password if "ADMIN_PASSWORD" not in os.environ else "(from ADMIN_PASSWORD)"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin account {username!r} with password {shown}\n"
                "Log in at /login, dashboard at /dashboard/. "
                "Change the password at /settings/password."
            )
        )
