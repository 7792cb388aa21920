"""Signed means immutable, at the database: the safety rows of a note that left draft cannot be
changed or deleted, and safety plan versions can never be (a change is a new version)."""

from django.db import migrations

from crisisnotes.db import ProtectRows

NOTE_NOT_DRAFT = (
    "EXISTS (SELECT 1 FROM crisis_sessions_crisissession n "
    "WHERE n.id = OLD.session_id AND n.status <> 'draft')"
)

SESSION_TABLES = [
    "safety_safetyscreen",
    "safety_riskformulation",
    "safety_meanssafety",
    "safety_supervisornotification",
    "safety_disclosure",
]


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0001_initial"),
        ("crisis_sessions", "0002_protect_signed_notes"),
    ]

    operations = [
        *[
            ProtectRows(
                name=f"{table}_frozen",
                table=table,
                message="this safety record belongs to a signed note and cannot be changed",
                update_when=NOTE_NOT_DRAFT,
                delete_when=NOTE_NOT_DRAFT,
            )
            for table in SESSION_TABLES
        ],
        ProtectRows(
            name="safety_safetyplanversion_immutable",
            table="safety_safetyplanversion",
            message="a safety plan version never changes; save a new version instead",
        ),
    ]
