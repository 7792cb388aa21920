"""Nothing can be added to (or moved into) the safety record of a note that left draft: no
screen, formulation, means row, supervisor notification, disclosure or session-linked safety plan
version (the content hash covers each of them, or names the plan version in force). Migration
0002 already refuses their UPDATE and DELETE."""

from django.db import migrations

from crisisnotes.db import ProtectRows


def note_locked(session_id: str) -> str:
    """SQL: the note whose id is `session_id` (e.g. NEW.session_id) has left draft."""
    return (
        "EXISTS (SELECT 1 FROM crisis_sessions_crisissession n "
        f"WHERE n.id = {session_id} AND n.status <> 'draft')"
    )


SESSION_TABLES = [
    "safety_safetyscreen",
    "safety_riskformulation",
    "safety_meanssafety",
    "safety_supervisornotification",
    "safety_disclosure",
]

# Moving a draft's row into a locked note is an insert in disguise. (Changing a locked note's own
# rows is refused by migration 0002's triggers, with their own message.)
MOVED_INTO_LOCKED_NOTE = (
    f"NEW.session_id IS DISTINCT FROM OLD.session_id AND {note_locked('NEW.session_id')}"
)

SEALED = "this note is signed: nothing can be added to its safety record"


class Migration(migrations.Migration):
    dependencies = [("safety", "0002_protect_rows")]

    operations = [
        *[
            ProtectRows(
                name=f"{table}_sealed",
                table=table,
                message=SEALED,
                insert_when=note_locked("NEW.session_id"),
                update_when=MOVED_INTO_LOCKED_NOTE,
                delete_when=None,
            )
            for table in SESSION_TABLES
        ],
        # A version saved without a session (from the client page) may follow a signed note; one
        # saved *in* a signed note would change the plan its record names.
        ProtectRows(
            name="safety_safetyplanversion_sealed",
            table="safety_safetyplanversion",
            message=SEALED,
            insert_when=f"NEW.session_id IS NOT NULL AND {note_locked('NEW.session_id')}",
            update_when=None,
            delete_when=None,
        ),
    ]
