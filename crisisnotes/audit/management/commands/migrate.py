"""`manage.py migrate`, connected as the owner role when DATABASE_OWNER_URL is set.

The app itself runs as the runtime role (DATABASE_URL), which may not create or alter tables;
the owner role, which may, is used only here and by `db_roles` (crisisnotes.db_roles)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate

from crisisnotes.db_roles import owner_connection


class Command(DjangoMigrate):
    help = f"{DjangoMigrate.help} Connects as DATABASE_OWNER_URL when it is set."

    def handle(self, *args: Any, **options: Any) -> None:
        with owner_connection(options["database"]):
            super().handle(*args, **options)
