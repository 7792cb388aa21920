"""Close the holes of migration 0002's backstop (issue 9, part B):

- nothing can be added to (or moved into) a note that left draft: no new stage row, quick note or
  follow-up task, whatever the code path — the content hash covers them all;
- the awaiting-co-sign → signed transition may set the co-sign columns and nothing else (a forged
  content hash or signer name in the same UPDATE is refused), and must set them;
- a follow-up task keeps the plan it was signed with (due time, method, assignee, purpose), and
  once closed its outcome is final;
- follow-up attempts, printed in the record, are append-only (and none is added to a closed task);
- alerts sent for a task are append-only (who was reminded or escalated to, and when).
"""

from django.db import migrations

from crisisnotes.db import ProtectColumns, ProtectRows


def note_locked(session_id: str) -> str:
    """SQL: the note whose id is `session_id` (e.g. NEW.session_id) has left draft."""
    return (
        "EXISTS (SELECT 1 FROM crisis_sessions_crisissession n "
        f"WHERE n.id = {session_id} AND n.status <> 'draft')"
    )


def changed(*columns: str) -> str:
    """SQL: any of these columns differs between OLD and NEW (NULL-safe)."""
    return "(" + " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns) + ")"


# Rows of a note's content hash that are stored with a session_id (migration 0002 already refuses
# their UPDATE and DELETE once the note left draft, judged by OLD).
CHILD_TABLES = [
    "crisis_sessions_explorationstage",
    "crisis_sessions_rapportstage",
    "crisis_sessions_problemsolvingstage",
    "crisis_sessions_followupstage",
    "crisis_sessions_quicknote",
]

# What co-signing writes (sessions.services.review.note_cosign), and nothing else but the row's
# modification time, which is not part of the record (a save() touches it).
COSIGN_COLUMNS = [
    "status",
    "cosigned_by_id",
    "cosigned_at",
    "cosigner_name",
    "cosigner_credential",
    "cosigner_licence",
    "cosign_hash",
    "updated_at",
]

# The follow-up plan as the content hash covers it (sessions.sections.FollowUpSection), and the
# row's identity.
TASK_PLAN_COLUMNS = (
    "session_id",
    "clinic_id",
    "client_id",
    "assigned_to_id",
    "due_at",
    "method",
    "purpose",
    "created_by_id",
    "created_at",
)
TASK_OUTCOME_COLUMNS = ("outcome", "outcome_notes", "closed_at", "closed_by_id")

# Moving a draft's row into a locked note is an insert in disguise. (Changing a locked note's own
# rows is refused by migration 0002's triggers, with their own message.)
MOVED_INTO_LOCKED_NOTE = (
    f"NEW.session_id IS DISTINCT FROM OLD.session_id AND {note_locked('NEW.session_id')}"
)

SEALED = "this note is signed: nothing can be added to it; add an addendum instead"


class Migration(migrations.Migration):
    dependencies = [("crisis_sessions", "0006_private_process_notes")]

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
            for table in CHILD_TABLES
        ],
        ProtectColumns(
            name="crisis_session_cosign_columns_only",
            table="crisis_sessions_crisissession",
            message="co-signing may only add the co-signature to the note",
            when="OLD.status = 'awaiting_cosign' AND NEW.status = 'signed'",
            allowed=COSIGN_COLUMNS,
            require=(
                "NEW.cosigned_by_id IS NOT NULL AND NEW.cosigned_at IS NOT NULL "
                "AND NEW.cosign_hash <> ''"
            ),
        ),
        ProtectRows(
            name="crisis_sessions_followuptask_sealed",
            table="crisis_sessions_followuptask",
            message="this follow-up belongs to a signed note or is closed: its plan and outcome "
            "cannot be changed",
            insert_when=note_locked("NEW.session_id"),
            update_when=(
                f"((({note_locked('OLD.session_id')}) OR ({note_locked('NEW.session_id')})) "
                f"AND {changed(*TASK_PLAN_COLUMNS)}) "
                f"OR (OLD.closed_at IS NOT NULL AND {changed(*TASK_OUTCOME_COLUMNS)})"
            ),
            delete_when=f"({note_locked('OLD.session_id')}) OR OLD.closed_at IS NOT NULL",
        ),
        ProtectRows(
            name="crisis_sessions_followupattempt_append_only",
            table="crisis_sessions_followupattempt",
            message="follow-up attempts are append-only, and a closed follow-up takes none",
            insert_when=(
                "EXISTS (SELECT 1 FROM crisis_sessions_followuptask t "
                "WHERE t.id = NEW.task_id AND t.closed_at IS NOT NULL)"
            ),
        ),
        ProtectRows(
            name="crisis_sessions_followupalert_append_only",
            table="crisis_sessions_followupalert",
            message="follow-up alerts are append-only",
        ),
    ]
