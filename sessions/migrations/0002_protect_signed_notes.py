"""Signed means immutable, at the database: no code path (admin, shell, bulk update, raw SQL) can
change or delete a signed note, the stage rows of a note that left draft, or an addendum."""

from django.db import migrations

from crisisnotes.db import ProtectRows

NOTE_NOT_DRAFT = (
    "EXISTS (SELECT 1 FROM crisis_sessions_crisissession n "
    "WHERE n.id = OLD.session_id AND n.status <> 'draft')"
)

STAGE_TABLES = [
    "crisis_sessions_explorationstage",
    "crisis_sessions_rapportstage",
    "crisis_sessions_problemsolvingstage",
    "crisis_sessions_followupstage",
    "crisis_sessions_quicknote",
]


class Migration(migrations.Migration):
    dependencies = [("crisis_sessions", "0001_initial")]

    operations = [
        ProtectRows(
            name="crisis_session_signed_immutable",
            table="crisis_sessions_crisissession",
            message="a signed note cannot be changed; add an addendum instead",
            # Awaiting co-sign: content is frozen; the only change is the supervisor's decision
            # (co-sign → signed, or return → draft).
            update_when=(
                "OLD.status = 'signed' "
                "OR (OLD.status = 'awaiting_cosign' AND NEW.status = 'awaiting_cosign')"
            ),
            delete_when="OLD.status <> 'draft'",
        ),
        *[
            ProtectRows(
                name=f"{table}_frozen",
                table=table,
                message="this stage belongs to a signed note and cannot be changed",
                update_when=NOTE_NOT_DRAFT,
                delete_when=NOTE_NOT_DRAFT,
            )
            for table in STAGE_TABLES
        ],
        ProtectRows(
            name="crisis_sessions_addendum_append_only",
            table="crisis_sessions_addendum",
            message="addenda are append-only",
        ),
    ]
