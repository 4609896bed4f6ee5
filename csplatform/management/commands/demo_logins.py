"""``python manage.py demo_logins [--port P]``: where the app answers and who can sign in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.seeding_users import DEMO_PASSWORD, DEMO_USERS
from csplatform import roles
from csplatform.models import User


class Command(BaseCommand):
    help = "Print the local URL and the demo logins per role (after manage.py seed_demo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="port the web server listens on")

    def handle(self, *args: Any, **options: Any) -> None:
        existing = set(
            User.objects.filter(
                username__in=[person.username for person in DEMO_USERS], is_active=True
            ).values_list("username", flat=True)
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"csplatform: http://localhost:{options['port']}/"))
        if not existing:
            self.stdout.write("No demo people in this database (run: python manage.py seed_demo).")
            return
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for role in roles.ALL_ROLES:
            names = [p.username for p in DEMO_USERS if p.role == role and p.username in existing]
            if names:
                self.stdout.write(f"  {role:<18} {', '.join(names)}")
        self.stdout.write(f"API docs: http://localhost:{options['port']}/api/docs/  (sign in first)")
        self.stdout.write("")
