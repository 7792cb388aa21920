"""manage.py purge_exports: apply the export retention now (what the hourly beat task does)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from sessions.services.retention import export_files_purge


class Command(BaseCommand):
    help = (
        "Delete the files of exports finished more than EXPORT_RETENTION_HOURS ago (and whose "
        "download link expired); the job records stay, marked purged."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        purged = export_files_purge()
        self.stdout.write(
            f"Purged the files of {purged} export{'s' if purged != 1 else ''} "
            f"(retention {settings.EXPORT_RETENTION_HOURS} h)."
        )
