import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sessions.services.demo import demo_seed


class Command(BaseCommand):
    help = "Create the invented demo clinic, its users (one per role) and clients."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            # Demo users have known passwords and roles: never in a database holding real records.
            raise CommandError("seed_demo refuses to run with DJANGO_ENV=production.")
        password = os.environ.get("DEMO_PASSWORD") or None
        result = demo_seed(password=password)
        if result.created_users:
            shown = result.password if password is None else "(the value of DEMO_PASSWORD)"
            self.stdout.write(
                self.style.SUCCESS("Demo users created: " + ", ".join(result.created_users))
            )
            self.stdout.write(f"Password for each of them: {shown}")
            if password is None:
                self.stdout.write("It is shown only now. Set DEMO_PASSWORD to choose one.")
        if result.existing_users:
            self.stdout.write(
                "Demo users already present, unchanged: " + ", ".join(result.existing_users)
            )
