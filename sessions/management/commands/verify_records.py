from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.models.integrity import RecordCheckKind
from sessions.services.verify import records_verify


class Command(BaseCommand):
    help = (
        "Recompute the content hash (and co-sign hash) of every signed note from the stored "
        "rows and list each note whose stored hash does not match. Exits non-zero when any does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", type=int, help="Only this clinic's notes (its id).")

    def handle(self, *args: Any, **options: Any) -> None:
        result = records_verify(clinic_id=options.get("clinic"))
        for verification in result.mismatched:
            for check in verification.mismatches:
                self.stdout.write(
                    f"MISMATCH note {verification.note_id} "
                    f"{RecordCheckKind(check.kind).label.lower()}: "
                    f"stored {check.stored or '(empty)'} computed {check.computed or '(none)'}"
                )
        summary = f"{result.checked} signed notes checked, {len(result.mismatched)} mismatches."
        if result.mismatched:
            # CommandError: exit status 1, message on stderr — a cron job or CI step fails.
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
