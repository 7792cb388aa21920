"""`manage.py db_roles`: set up the runtime database role (crisisnotes.db_roles), or check it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from crisisnotes.db_roles import (
    RoleSetupError,
    owner_connection,
    runtime_role_ensure,
    runtime_role_problems,
)


class Command(BaseCommand):
    help = (
        "Create or correct the runtime role named in DATABASE_URL (login, data grants only, "
        "default privileges for tables added later), connected as DATABASE_OWNER_URL; then "
        "check it. Idempotent. With --check, only check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--check", action="store_true", help="Only report what is wrong; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        alias = options["database"]
        runtime = dict(connections[alias].settings_dict)
        if connections[alias].vendor != "postgresql":
            raise CommandError("Database roles exist on PostgreSQL only (DATABASE_URL).")
        if not options["check"] and not getattr(settings, "DATABASE_OWNER_URL", ""):
            raise CommandError(
                "Set DATABASE_OWNER_URL to the owner role's URL (the one that runs migrate); "
                "DATABASE_URL names the runtime role to set up."
            )
        role = runtime["USER"]
        with owner_connection(alias) as connection:
            try:
                if not options["check"]:
                    runtime_role_ensure(
                        connection=connection, role=role, password=runtime["PASSWORD"] or None
                    )
                problems = runtime_role_problems(connection=connection, role=role)
            except RoleSetupError as exc:
                raise CommandError(str(exc)) from exc
        if problems:
            raise CommandError(
                f"The runtime role {role} is not safe to run the app as:\n- "
                + "\n- ".join(problems)
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Runtime role {role}: data grants only (no TRUNCATE, owns nothing, no superuser)."
            )
        )
