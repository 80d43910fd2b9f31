from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import api_key_create


class Command(BaseCommand):
    help = "Make a new API key for USERNAME (revoking the old one) and print only the key."

    def add_arguments(self, parser: object) -> None:
        parser.add_argument("username")  # type: ignore[attr-defined]

    def handle(self, *args: object, **options: object) -> None:
        username = str(options["username"])
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        self.stdout.write(api_key_create(user=user).key)
