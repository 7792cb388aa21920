"""The database backstop (crisisnotes.db.ProtectRows / ProtectColumns): signed means immutable at
the database, whatever issues the statement — the ORM, raw SQL, the admin, a shell.

On PostgreSQL (the tests' database): nothing is added to a note that left draft, the co-sign
transition adds the co-signature and nothing else, follow-up attempts are append-only, and every
table that belongs to a note is guarded or on the commented allow-list below. On SQLite (the
embedded default) the same guards hold after `migrate`, which rebuilds tables and so drops and
reinstalls every trigger.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from safety.models import (
    Disclosure,
    MeansSafety,
    RiskFormulation,
    SafetyPlanVersion,
    SafetyScreen,
    SupervisorNotification,
)
from sessions.models import (
    CrisisSession,
    ExplorationStage,
    FollowUpAlert,
    FollowUpAttempt,
    FollowUpStage,
    FollowUpTask,
    ProblemSolvingStage,
    QuickNote,
    RapportStage,
)
from sessions.models.notes import NoteStatus
from sessions.services.followups import followup_attempt_log, followup_close
from sessions.services.review import note_cosign
from tests.factories import ClientFactory, CrisisSessionFactory, FollowUpTaskFactory, NoteFactory

ROOT = Path(__file__).resolve().parent.parent

# --- every table that belongs to a note is guarded, or listed here with the reason --------------

# Tables with a foreign-key path to a note that leave some operations unguarded on purpose:
# {table: ({operations not guarded by a trigger}, why)}. Anything not listed must refuse INSERT,
# UPDATE and DELETE by trigger (conditionally: e.g. only once its note left draft). Adding a table
# that belongs to a note means guarding it in a migration (ProtectRows) or arguing for it here.
ALLOWED_UNGUARDED: dict[str, tuple[set[str], str]] = {
    "crisis_sessions_crisissession": (
        {"INSERT"},
        # The app inserts a note as a draft. A row inserted already signed (seed scripts, bulk
        # loads) changes no existing record, and verify_records checks its content hash.
        "a new note changes no existing record",
    ),
    "crisis_sessions_addendum": (
        {"INSERT"},
        # UPDATE and DELETE are refused always (append-only).
        "an addendum is how a signed note is amended",
    ),
    "crisis_sessions_reviewcomment": (
        {"INSERT"},
        # A supervisor's return adds its comments while the note still awaits co-signature;
        # UPDATE and DELETE are refused always (append-only).
        "a return adds comments to a note awaiting co-sign",
    ),
    "crisis_sessions_followupalert": (
        {"INSERT"},
        # Reminders and escalations are sent after signing, by design; UPDATE and DELETE are
        # refused always. Not in the content hash.
        "alerts are sent after signing",
    ),
    "crisis_sessions_recordintegrityalert": (
        {"INSERT"},
        # The periodic verification records a mismatch it found on a signed note, once per note
        # and kind, by design after signing; UPDATE and DELETE are refused always. Not hashed.
        "verification alerts are raised about signed notes",
    ),
    "crisis_sessions_processnote": (
        {"INSERT", "UPDATE", "DELETE"},
        # CLINICAL.md §10: the counselor's private process note is not part of the record: never
        # hashed, printed or exported, and editable after signing.
        "a private process note is not the record",
    ),
}

OPERATIONS = {"INSERT", "UPDATE", "DELETE"}


def note_tables() -> set[str]:
    """Every model table with a foreign-key path (following FKs and one-to-ones) to a note."""
    target = CrisisSession._meta.db_table

    def reaches_note(model: type[models.Model]) -> bool:
        seen, queue = {model}, deque([model])
        while queue:
            current = queue.popleft()
            if current._meta.db_table == target:
                return True
            for field in current._meta.concrete_fields:
                related = field.related_model if field.is_relation else None
                if isinstance(related, type) and related not in seen:
                    seen.add(related)
                    queue.append(related)
        return False

    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and reaches_note(model)
    }


def guarded_operations_postgres() -> dict[str, set[str]]:
    """{table: operations refused by a ProtectRows trigger} as installed in the database."""
    # tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update. ProtectRows names the trigger
    # after its function.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgtype FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND p.proname = t.tgname AND t.tgtype & 3 = 3"
        )
        rows = cursor.fetchall()
    guarded: dict[str, set[str]] = {}
    for table, tgtype in rows:
        bits = {"INSERT": 4, "DELETE": 8, "UPDATE": 16}
        guarded.setdefault(table, set()).update(op for op, bit in bits.items() if tgtype & bit)
    return guarded


def unguarded_problems(tables: set[str], guarded: dict[str, set[str]]) -> list[str]:
    problems = []
    for table in sorted(tables):
        missing = OPERATIONS - guarded.get(table, set())
        allowed, _why = ALLOWED_UNGUARDED.get(table, (set(), ""))
        if missing - allowed:
            problems.append(f"{table}: no trigger refuses {sorted(missing - allowed)}")
        if allowed - missing:
            problems.append(f"{table}: allow-listed {sorted(allowed - missing)} is guarded now")
    problems += [
        f"{table}: allow-listed but does not belong to a note"
        for table in sorted(set(ALLOWED_UNGUARDED) - tables)
    ]
    return problems


@pytest.mark.django_db
def test_every_table_that_belongs_to_a_note_is_guarded_or_allow_listed():
    tables = note_tables()
    # The introspection finds what it must (a sample, so the walk itself is tested).
    assert {
        "crisis_sessions_quicknote",
        "crisis_sessions_followupattempt",  # attempt → task → note
        "safety_safetyscreen",
        "safety_safetyplanversion",
    } <= tables
    assert "crisis_sessions_client" not in tables and "audit_auditevent" not in tables
    assert unguarded_problems(tables, guarded_operations_postgres()) == []


@pytest.mark.django_db
def test_the_coverage_check_fails_for_a_new_unguarded_table():
    tables = note_tables() | {"crisis_sessions_newthing"}
    assert unguarded_problems(tables, guarded_operations_postgres()) == [
        "crisis_sessions_newthing: no trigger refuses ['DELETE', 'INSERT', 'UPDATE']"
    ]


# --- PostgreSQL: nothing is added to a note that left draft -----------------------------------

SEALED = "nothing can be added to"


def refused(statement, params=None, match: str | None = None) -> None:
    """Run raw SQL (a string) or an ORM callable; it must fail at the database."""
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        if callable(statement):
            statement()
        else:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)


@pytest.fixture(params=[NoteStatus.SIGNED, NoteStatus.AWAITING_COSIGN])
def locked_note(request, counselor):
    """A note that left draft, without any child row yet (so an insert fails only by trigger,
    never by a one-to-one's unique key)."""
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    return CrisisSessionFactory(
        clinic=counselor.clinic, client=client, author=counselor, status=request.param
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [
        ExplorationStage,
        RapportStage,
        ProblemSolvingStage,
        FollowUpStage,
        SafetyScreen,
        RiskFormulation,
        MeansSafety,
    ],
)
def test_no_stage_row_is_added_to_a_locked_note(locked_note, model):
    refused(lambda: model.objects.create(session=locked_note), match=SEALED)
    table = model._meta.db_table
    refused(f"INSERT INTO {table} (session_id, updated_at) VALUES (%s, now())", [locked_note.pk])
    assert not model.objects.filter(session=locked_note).exists()


@pytest.mark.django_db
def test_no_quick_note_task_notification_disclosure_or_plan_is_added_to_a_locked_note(
    locked_note, counselor, supervisor
):
    note = locked_note
    refused(lambda: QuickNote.objects.create(session=note, text="after"), match=SEALED)
    refused(
        "INSERT INTO crisis_sessions_quicknote (session_id, created_at, text) "
        "VALUES (%s, now(), 'after')",
        [note.pk],
        match=SEALED,
    )
    refused(lambda: FollowUpTaskFactory(session=note, assigned_to=counselor), match="follow-up")
    refused(
        "INSERT INTO crisis_sessions_followuptask (clinic_id, session_id, client_id, "
        "assigned_to_id, due_at, method, purpose, outcome, outcome_notes, created_at) "
        "VALUES (%s, %s, %s, %s, now(), 'call', '', '', '', now())",
        [note.clinic_id, note.pk, note.client_id, counselor.pk],
    )
    refused(
        lambda: SupervisorNotification.objects.create(
            session=note,
            supervisor=supervisor,
            supervisor_name="Forged",
            notified_at=timezone.now(),
            method="phone",
            created_by=counselor,
        ),
        match=SEALED,
    )
    refused(
        lambda: Disclosure.objects.create(
            clinic=note.clinic,
            client=note.client,
            session=note,
            type="other",
            legal_basis="none",
            recipient="Someone",
            disclosed_at=timezone.now(),
            information_disclosed="x",
            purpose="x",
            created_by=counselor,
        ),
        match=SEALED,
    )
    plan = {"clinic": note.clinic, "client": note.client, "created_by": counselor, "steps": {}}
    refused(lambda: SafetyPlanVersion.objects.create(number=1, session=note, **plan), match=SEALED)
    # A version saved outside any session (the client page) may follow a signed note.
    SafetyPlanVersion.objects.create(number=1, session=None, **plan)
    assert not QuickNote.objects.filter(session=note).exists()
    assert not FollowUpTask.objects.filter(session=note).exists()


@pytest.mark.django_db
def test_a_drafts_rows_cannot_be_moved_into_a_locked_note(locked_note, counselor):
    draft = NoteFactory.create(author=counselor)
    quick = QuickNote.objects.create(session=draft, text="typed in the draft")
    refused(
        "UPDATE crisis_sessions_quicknote SET session_id = %s WHERE id = %s",
        [locked_note.pk, quick.pk],
        match=SEALED,
    )
    refused(lambda: QuickNote.objects.filter(pk=quick.pk).update(session=locked_note), match=SEALED)
    task = FollowUpTaskFactory(session=draft, assigned_to=counselor)
    refused(lambda: FollowUpTask.objects.filter(pk=task.pk).update(session=locked_note))
    assert QuickNote.objects.get(pk=quick.pk).session_id == draft.pk


@pytest.mark.django_db
def test_a_draft_still_takes_its_rows(counselor):
    draft = NoteFactory.create(author=counselor)
    QuickNote.objects.create(session=draft, text="typed in the draft")
    FollowUpTaskFactory(session=draft, assigned_to=counselor)
    assert draft.quick_notes.count() == 1 and draft.followup_tasks.count() == 1


# --- PostgreSQL: awaiting co-sign → signed adds the co-signature and nothing else ---------------

COSIGN_ONLY = "co-signing may only add the co-signature"


def _cosign_columns(supervisor) -> dict:
    return {
        "status": NoteStatus.SIGNED,
        "cosigned_by": supervisor,
        "cosigned_at": timezone.now(),
        "cosigner_name": supervisor.display_name,
        "cosigner_credential": supervisor.credential,
        "cosigner_licence": supervisor.licence_number,
        "cosign_hash": "ab" * 32,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        {"content_hash": "0" * 64},
        {"signer_name": "Someone Else"},
        {"signed_at": timezone.now()},
        {"modality": "text"},
        {"version": 99},
        {"cosign_required_reason": ""},
    ],
)
def test_cosign_transition_refuses_any_other_column(trainee, supervisor, team, forged):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    rows = CrisisSession.objects.filter(pk=note.pk)
    refused(lambda: rows.update(**_cosign_columns(supervisor), **forged), match=COSIGN_ONLY)
    column, value = next(iter(forged.items()))
    refused(
        f"UPDATE crisis_sessions_crisissession SET status = 'signed', cosigned_by_id = %s, "
        f"cosigned_at = now(), cosign_hash = %s, {column} = %s WHERE id = %s",
        [supervisor.pk, "ab" * 32, value, note.pk],
        match=COSIGN_ONLY,
    )
    assert rows.get().status == NoteStatus.AWAITING_COSIGN


@pytest.mark.django_db
def test_cosign_transition_must_add_the_cosignature(trainee, supervisor, team):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    refused(
        "UPDATE crisis_sessions_crisissession SET status = 'signed' WHERE id = %s",
        [note.pk],
        match=COSIGN_ONLY,
    )
    columns = {**_cosign_columns(supervisor), "cosign_hash": ""}
    refused(lambda: CrisisSession.objects.filter(pk=note.pk).update(**columns), match=COSIGN_ONLY)


@pytest.mark.django_db
def test_cosign_through_the_service_and_a_whole_row_save_pass(trainee, supervisor, team):
    first = NoteFactory.create(awaiting_cosign=True, author=trainee)
    assert note_cosign(note=first, supervisor=supervisor).status == NoteStatus.SIGNED
    second = NoteFactory.create(awaiting_cosign=True, author=trainee)
    for name, value in _cosign_columns(supervisor).items():
        setattr(second, name, value)
    second.save()  # every column written, updated_at touched: only the co-sign ones differ
    assert CrisisSession.objects.get(pk=second.pk).status == NoteStatus.SIGNED


# --- PostgreSQL: follow-ups keep their signed plan; attempts and alerts are append-only ---------


@pytest.fixture
def signed_task(counselor):
    draft = NoteFactory.create(author=counselor)
    task = FollowUpTaskFactory(session=draft, assigned_to=counselor, purpose="Call Monday")
    CrisisSession.objects.filter(pk=draft.pk).update(status=NoteStatus.SIGNED)
    return task


@pytest.mark.django_db
def test_follow_up_attempts_are_append_only(signed_task, counselor):
    attempt = followup_attempt_log(
        actor=counselor, task=signed_task, method="call", outcome="no_answer", notes="Voicemail"
    )
    rows = FollowUpAttempt.objects.filter(pk=attempt.pk)
    refused(lambda: rows.update(notes="Reached, all fine"), match="append-only")
    refused(lambda: rows.delete(), match="append-only")
    refused("DELETE FROM crisis_sessions_followupattempt WHERE id = %s", [attempt.pk])
    refused(
        "UPDATE crisis_sessions_followupattempt SET outcome = 'reached_safe' WHERE id = %s",
        [attempt.pk],
    )
    assert rows.get().notes == "Voicemail"


@pytest.mark.django_db
def test_a_closed_follow_up_takes_no_attempt_and_keeps_its_outcome(signed_task, counselor):
    # Logging and closing work after signing: that is what follow-ups are for.
    followup_attempt_log(actor=counselor, task=signed_task, method="call", outcome="no_answer")
    followup_close(actor=counselor, task=signed_task, outcome="reached_safe", notes="Safe")
    refused(
        "INSERT INTO crisis_sessions_followupattempt (task_id, attempted_at, method, outcome, "
        "notes, by_id) VALUES (%s, now(), 'call', 'declined', '', %s)",
        [signed_task.pk, counselor.pk],
        match="append-only",
    )
    rows = FollowUpTask.objects.filter(pk=signed_task.pk)
    refused(lambda: rows.update(outcome="declined"))
    refused(lambda: rows.update(closed_at=None))
    refused("DELETE FROM crisis_sessions_followuptask WHERE id = %s", [signed_task.pk])
    assert rows.get().outcome == "reached_safe"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"due_at": timezone.now()},
        {"method": "visit"},
        {"purpose": "Something else"},
    ],
)
def test_a_signed_notes_follow_up_keeps_its_plan(signed_task, teammate, change):
    rows = FollowUpTask.objects.filter(pk=signed_task.pk)
    refused(lambda: rows.update(**change), match="cannot be changed")
    refused(lambda: rows.update(assigned_to=teammate), match="cannot be changed")
    refused(lambda: rows.delete())
    assert rows.get().purpose == "Call Monday"


@pytest.mark.django_db
def test_follow_up_alerts_are_append_only(signed_task, counselor):
    alert = FollowUpAlert.objects.create(
        task=signed_task, kind="reminder", recipient=counselor, sent_at=timezone.now()
    )
    refused(lambda: FollowUpAlert.objects.filter(pk=alert.pk).update(recipient=None))
    refused("DELETE FROM crisis_sessions_followupalert WHERE id = %s", [alert.pk])


# --- SQLite, the embedded default -------------------------------------------------------------

SCRIPT = """
import json
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import AuditEvent
from safety.models import SafetyScreen
from sessions.models import (
    Client, CrisisSession, ExplorationStage, FollowUpAttempt, FollowUpTask, QuickNote,
)

clinic = Clinic.objects.create(name="Guard Clinic", slug="guard")
user = User.objects.create(username="g", full_name="G Example", clinic=clinic)
boss = User.objects.create(username="b", full_name="B Example", clinic=clinic)
client = Client.objects.create(clinic=clinic, alias="Caller, green hat", created_by=user)

def new_note(**fields):
    return CrisisSession.objects.create(
        clinic=clinic, client=client, author=user, modality="phone", started_at=timezone.now(),
        **fields,
    )

note = new_note()
ExplorationStage.objects.create(session=note, precipitating_event="before")
task = FollowUpTask.objects.create(
    clinic=clinic, session=note, client=client, assigned_to=user, due_at=timezone.now(),
    method="call",
)
attempt = FollowUpAttempt.objects.create(
    task=task, attempted_at=timezone.now(), method="call", outcome="no_answer", by=user
)
event = AuditEvent.objects.create(action="view", actor_username="g")
CrisisSession.objects.filter(pk=note.pk).update(status="signed")
bare = new_note(status="signed")  # no stage rows yet
awaiting = new_note(status="awaiting_cosign", content_hash="c" * 64, signer_name="G Example")

def outcome(sql, params):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as exc:
        return str(exc).splitlines()[0]
    return "allowed"

cosign = (
    "UPDATE crisis_sessions_crisissession SET status = 'signed', cosigned_by_id = %s, "
    "cosigned_at = '2026-11-30 10:00:00', cosign_hash = 'h'"
)
checks = {
    "update signed note": outcome(
        "UPDATE crisis_sessions_crisissession SET modality = 'text' WHERE id = %s", [note.pk]
    ),
    "update stage row": outcome(
        "UPDATE crisis_sessions_explorationstage SET precipitating_event = 'x' "
        "WHERE session_id = %s", [note.pk],
    ),
    "delete audit event": outcome("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]),
    "insert quick note": outcome(
        "INSERT INTO crisis_sessions_quicknote (session_id, created_at, text) "
        "VALUES (%s, '2026-11-30 10:00:00', 'late')", [note.pk],
    ),
    "insert stage row": outcome(
        "INSERT INTO crisis_sessions_explorationstage (session_id, updated_at, "
        "precipitating_event, perceived_meaning, perceived_cause, suds_not_obtained_reason, "
        "affect, affect_notes, deescalation, deescalation_notes) "
        "VALUES (%s, '2026-11-30', '', '', '', '', '[]', '', '[]', '')", [bare.pk],
    ),
    "insert safety row": outcome(
        "INSERT INTO safety_safetyscreen (session_id, version, not_done_reason, not_done_text, "
        "risk, updated_at) VALUES (%s, 'recent', '', '', '', '2026-11-30')", [bare.pk],
    ),
    "move task plan": outcome(
        "UPDATE crisis_sessions_followuptask SET due_at = '2030-01-01' WHERE id = %s", [task.pk]
    ),
    "update attempt": outcome(
        "UPDATE crisis_sessions_followupattempt SET notes = 'x' WHERE id = %s", [attempt.pk]
    ),
    "delete attempt": outcome(
        "DELETE FROM crisis_sessions_followupattempt WHERE id = %s", [attempt.pk]
    ),
    "cosign forging the hash": outcome(
        cosign + ", content_hash = 'forged' WHERE id = %s", [boss.pk, awaiting.pk]
    ),
    "cosign forging the signer": outcome(
        cosign + ", signer_name = 'Someone' WHERE id = %s", [boss.pk, awaiting.pk]
    ),
    "cosign": outcome(cosign + " WHERE id = %s", [boss.pk, awaiting.pk]),
    "insert quick note into draft": outcome(
        "INSERT INTO crisis_sessions_quicknote (session_id, created_at, text) "
        "VALUES (%s, '2026-11-30 10:00:00', 'typed')", [new_note().pk],
    ),
}
with connection.cursor() as cursor:
    cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
    triggers = cursor.fetchall()
print(json.dumps({"checks": checks, "triggers": triggers}))
"""

SQLITE_EXPECTED = {
    "update signed note": "a signed note cannot be changed",
    "update stage row": "this stage belongs to a signed note",
    "delete audit event": "audit events are append-only",
    "insert quick note": "nothing can be added to it",
    "insert stage row": "nothing can be added to it",
    "insert safety row": "nothing can be added to its safety record",
    "move task plan": "its plan and outcome cannot be changed",
    "update attempt": "follow-up attempts are append-only",
    "delete attempt": "follow-up attempts are append-only",
    "cosign forging the hash": "co-signing may only add the co-signature",
    "cosign forging the signer": "co-signing may only add the co-signature",
    "cosign": "allowed",
    "insert quick note into draft": "allowed",
}


def test_sqlite_enforces_the_same_guards_after_migrate(migrated_sqlite_var):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ENV"}}
    env["CRISISNOTES_VAR_DIR"] = str(migrated_sqlite_var)
    run = [sys.executable, "manage.py"]
    result = subprocess.run(
        [*run, "shell", "-v0", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    outcomes = {
        name: expected if expected in report["checks"][name] else report["checks"][name]
        for name, expected in SQLITE_EXPECTED.items()
    }
    assert outcomes == SQLITE_EXPECTED
    # The same coverage as on PostgreSQL: ProtectRows names SQLite triggers <name>_<operation>.
    guarded: dict[str, set[str]] = {}
    for table, name in report["triggers"]:
        guarded.setdefault(table, set()).add(name.rsplit("_", 1)[1].upper())
    assert unguarded_problems(note_tables(), guarded) == []
