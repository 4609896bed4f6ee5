"""python manage.py issue_api_token <username> [--read-only]: print a new API key, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from csplatform.models import User
from csplatform.services import api_token_issue


class Command(BaseCommand):
    help = (
        "Issue an API token for a user. The key is printed alone on the last line, once; "
        "only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--read-only", action="store_true", help="The token may only read (GET).")

    def handle(self, *args: Any, username: str, read_only: bool, **options: Any) -> None:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f'No user named "{username}".') from None
        if not user.is_active:
            raise CommandError(f'User "{username}" is inactive; activate it first.')
        token, key = api_token_issue(user=user, read_only=read_only)
        mode = "read-only" if read_only else "read-write"
        self.stderr.write(
            f"Issued a {mode} token {token.prefix}… for {username}. Store the key now: it is not shown again."
        )
        self.stdout.write(key)
