from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from executions.models import ApiToken


class Command(BaseCommand):
    help = "Print a new API token for a user (its last line is the token; only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label to tell tokens apart in the admin")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(
                f"no user {username!r}; create one with `python manage.py createsuperuser` first"
            ) from None
        _, raw = ApiToken.issue(user=user, name=name)
        self.stderr.write(f"New API token for {username} (shown once; send it as 'Authorization: Bearer <token>'):")
        self.stdout.write(raw)
