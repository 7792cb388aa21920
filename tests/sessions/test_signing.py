from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crisisnotes.audit.models import Action, AuditEvent
from sessions.exceptions import NoteLocked, SignRefused
from sessions.models import Addendum, CrisisSession, ExplorationStage, QuickNote
from sessions.models.notes import AddendumKind, NoteStatus
from sessions.services.addenda import addendum_add
from sessions.services.notes import note_autosave, quick_note_add
from sessions.services.signing import note_content_hash, note_end_and_sign, note_sign
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_session_rules")]


def _ready(author, **overrides):
    note = start_note(author)
    return note_autosave(
        note=note, user=author, base_version=1, data=complete_data(note, **overrides)
    )


def test_end_and_sign_stops_the_clock_and_signs(counselor):
    note = _ready(counselor)
    CrisisSession.objects.filter(pk=note.pk).update(ended_at=None)
    signed = note_end_and_sign(note=reload(note), user=counselor)
    assert signed.status == NoteStatus.SIGNED
    assert signed.ended_at is not None


def test_signing_plans_its_locked_read_in_the_written_join_order(counselor):
    """The read after the lock joins the note's every stage row: planned as written (the
    search through join orders was most of its time), the rules and hash unchanged."""
    from django.test.utils import CaptureQueriesContext

    note = _ready(counselor)
    with CaptureQueriesContext(connection) as captured:
        signed = note_sign(note=note, user=counselor)
    assert signed.status == NoteStatus.SIGNED
    assert signed.content_hash == note_content_hash(reload(note))
    sql = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        setting = sql.index("SET LOCAL join_collapse_limit = 1")
        assert "_explorationstage" in sql[setting + 2]  # after the lock
        assert not any("_explorationstage" in s for s in sql[:setting])


def test_end_and_sign_refused_keeps_the_end_time(counselor):
    note = start_note(counselor)
    with pytest.raises(SignRefused) as refused:
        note_end_and_sign(note=note, user=counselor)
    assert "ended_at" not in [p.code for p in refused.value.problems]
    stored = CrisisSession.objects.get(pk=note.pk)
    assert stored.ended_at is not None
    assert stored.status == NoteStatus.DRAFT


def test_sign_with_missing_fields_lists_every_missing_one(counselor):
    note = start_note(counselor)
    with pytest.raises(SignRefused) as refused:
        note_sign(note=note, user=counselor)
    assert [(p.code, p.field_id) for p in refused.value.problems] == [
        ("ended_at", "id_header-ended_at"),
        ("confidentiality_explained", "id_header-confidentiality_explained"),
        ("precipitating_event", "id_exploration-precipitating_event"),
        ("suds_start", "id_exploration-suds_start"),
        ("suds_end", "id_exploration-suds_end"),
        ("interventions", "id_problem_solving-interventions"),
        ("disposition", "id_follow_up-disposition_0"),
        ("followup_plan", "id_follow_up-followup_plan"),
        ("crisis_numbers_given", "id_follow_up-crisis_numbers_given"),
    ]
    assert reload(note).status == NoteStatus.DRAFT


def test_suds_reason_replaces_the_ratings_and_other_disposition_needs_text(counselor):
    note = _ready(
        counselor,
        **{
            "exploration-suds_start": "",
            "exploration-suds_end": "",
            "exploration-suds_not_obtained_reason": "Client too distressed to rate",
            "follow_up-disposition": "other",
        },
    )
    with pytest.raises(SignRefused) as refused:
        note_sign(note=note, user=counselor)
    assert [p.code for p in refused.value.problems] == ["disposition_other"]


def test_signing_copies_the_signer_and_locks_the_note(counselor):
    note = _ready(counselor)
    signed = note_sign(note=note, user=counselor)
    signed = reload(signed)
    assert signed.status == NoteStatus.SIGNED
    assert signed.signer_name == counselor.full_name
    assert signed.signer_credential == counselor.credential
    assert signed.signer_licence == counselor.licence_number
    assert signed.signed_by == counselor and signed.signed_at is not None
    assert signed.content_hash == note_content_hash(signed)
    assert len(signed.content_hash) == 64
    assert signed.late_entry is False
    assert AuditEvent.objects.filter(action=Action.SIGN, object_id=str(note.pk)).exists()
    # The copy stays what it was at signing, whatever happens to the account later.
    counselor.credential = "LPC-S"
    counselor.save()
    assert reload(signed).signer_credential == "LPC"


def test_trainee_note_waits_for_cosign(trainee):
    note = _ready(trainee)
    signed = note_sign(note=note, user=trainee)
    assert signed.status == NoteStatus.AWAITING_COSIGN
    assert signed.cosign_required_reason == "Author is a trainee"
    assert signed.content_hash


def test_signed_long_after_the_session_is_a_late_entry(counselor):
    note = _ready(counselor)
    CrisisSession.objects.filter(pk=note.pk).update(
        started_at=timezone.now() - timedelta(hours=30),
        ended_at=timezone.now() - timedelta(hours=25),
    )
    assert note_sign(note=reload(note), user=counselor).late_entry is True


def test_content_hash_is_stable_and_covers_the_content(counselor):
    note = reload(_ready(counselor))
    first = note_content_hash(note)
    assert note_content_hash(reload(note)) == first
    ExplorationStage.objects.filter(session=note).update(precipitating_event="Something else")
    assert note_content_hash(reload(note)) != first
    quick_note_add(note=note, user=counselor, text="a line")
    assert note_content_hash(reload(note)) not in (first,)


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_sql_update_of_a_signed_note_fails_at_the_database(counselor):
    assert connection.vendor == "postgresql"
    note = note_sign(note=_ready(counselor), user=counselor)
    with pytest.raises(IntegrityError, match="signed note cannot be changed"):
        _raw("UPDATE crisis_sessions_crisissession SET modality = 'text' WHERE id = %s", [note.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM crisis_sessions_crisissession WHERE id = %s", [note.pk])
    assert reload(note).modality == "phone"


def test_raw_sql_update_of_a_stage_row_of_a_signed_note_fails(counselor):
    note = note_sign(note=_ready(counselor), user=counselor)
    with pytest.raises(IntegrityError, match="stage belongs to a signed note"):
        _raw(
            "UPDATE crisis_sessions_explorationstage SET precipitating_event = 'x' "
            "WHERE session_id = %s",
            [note.pk],
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ExplorationStage.objects.filter(session=note).update(suds_end=0)


def test_stage_rows_of_a_draft_stay_editable(counselor):
    note = start_note(counselor)
    _raw(
        "UPDATE crisis_sessions_explorationstage SET precipitating_event = 'x' "
        "WHERE session_id = %s",
        [note.pk],
    )
    assert reload(note).exploration.precipitating_event == "x"


def test_raw_sql_update_of_an_addendum_or_quick_note_of_a_signed_note_fails(counselor):
    note = _ready(counselor)
    quick_note_add(note=note, user=counselor, text="typed during the call")
    note = note_sign(note=reload(note), user=counselor)
    addendum = addendum_add(
        note=note, user=counselor, kind=AddendumKind.ADDENDUM, text="More", reason="Forgot"
    )
    with pytest.raises(IntegrityError, match="append-only"):
        _raw("UPDATE crisis_sessions_addendum SET text = 'x' WHERE id = %s", [addendum.pk])
    with pytest.raises(IntegrityError):
        _raw("DELETE FROM crisis_sessions_addendum WHERE id = %s", [addendum.pk])
    with pytest.raises(IntegrityError):
        _raw("UPDATE crisis_sessions_quicknote SET text = 'x' WHERE session_id = %s", [note.pk])
    assert Addendum.objects.get(pk=addendum.pk).text == "More"
    assert QuickNote.objects.get(session=note).text == "typed during the call"


def test_sign_refuses_other_users(counselor, teammate):
    note = _ready(counselor)
    with pytest.raises(PermissionDenied):
        note_sign(note=note, user=teammate)
    assert reload(note).status == NoteStatus.DRAFT


def test_a_returned_or_signed_note_cannot_be_signed_twice(counselor):
    note = note_sign(note=_ready(counselor), user=counselor)
    with pytest.raises(NoteLocked):
        note_sign(note=note, user=counselor)


def test_unmet_rules_are_listed_safety_first_then_header_then_in_stage_order(counselor):
    from sessions import registry
    from sessions.registry import NoteSection, SignProblem
    from sessions.services.signing import note_sign_problems

    def section(key, order, *pairs):
        made = type(
            f"Made{key}",
            (NoteSection,),
            {
                "key": key,
                "order": order,
                "sign_problems": lambda self, note: [
                    SignProblem(message=c, section=s, field_id=c, code=c) for s, c in pairs
                ],
            },
        )
        return made()

    note = start_note(counselor)
    with registry.override(
        section("follow_up", 50, ("follow_up", "plan"), ("exploration", "event")),
        section("safety", 10, ("safety", "agitation"), ("follow_up", "task"), ("safety", "cssrs")),
        section("problem_solving", 40, ("problem_solving", "interventions")),
        section("exploration", 20, ("elsewhere", "unknown")),
    ):
        assert [s.key for s in registry.sections()][:2] == ["safety", "exploration"]
        codes = [p.code for p in note_sign_problems(note)]
    assert codes == [
        "agitation",  # Safety first: the high-risk rules, each in its rule order
        "cssrs",
        "ended_at",  # then the header (this app's plain rules)
        "confidentiality_explained",
        "event",
        "interventions",
        "plan",  # a stage's own rules first,
        "task",  # then those another section links into it
        "unknown",  # a section nobody registered goes last
    ]
    assert len(registry.sections()) == 5  # restored after the block
