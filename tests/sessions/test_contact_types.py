"""The rule table of docs/contact-types.md (CLINICAL.md §11), row by row and both ways: with what
a type requires the note signs; without one requirement the refusal names exactly that rule; a
coded reason instead of a required action signs too (and a high-risk one goes to co-sign)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crisisnotes.accounts.models import User
from safety.models import SupervisorNotification
from sessions.contact_types import TABLE, Requirement, requirements
from sessions.exceptions import SignRefused
from sessions.models import CrisisSession, FollowUpTask
from sessions.models.notes import ContactType, NoteStatus
from sessions.services.notes import note_autosave
from sessions.services.signing import note_content_hash, note_sign, note_sign_problems
from tests.safety.helpers import HIGH, MODERATE, NONE, screen
from tests.sessions.note_helpers import COMPLETE, form_data, reload, start_note

pytestmark = pytest.mark.django_db


SPOKE = {
    "header-confidentiality_explained": "on",
    "follow_up-crisis_numbers_given": "on",
}
SPOKE_CONFIDENTIALITY = "header-confidentiality_explained"
NO_SCREEN = {"safety-screen-q1": None, "safety-screen-q2": None, "safety-screen-q6": None}

# What each contact type needs to sign, at no risk (C-SSRS all No where a screen is required).
BASE: dict[str, dict[str, Any]] = {
    ContactType.FULL: {**COMPLETE, **screen(NONE), "safety-means-agitation": "2"},
    ContactType.DISCONNECTED: {
        "header-contact_summary": "Caller said 'I can't do this' and the line went dead.",
        "header-after_disconnect": "Called back 14:02 and 14:10, voicemail. No dispatch: "
        "no risk stated, number known, follow-up tomorrow.",
        "safety-screen-not_done_reason": "hung_up",
        "safety-screen-not_done_text": "not reached — call ended",
    },
    ContactType.SILENT: {
        "header-contact_summary": "Invited to speak three times, gave 988; breathing only.",
    },
    ContactType.WRONG_NUMBER: {"header-contact_summary": "Asked for a pharmacy."},
    ContactType.THIRD_PARTY: {
        **SPOKE,
        **screen(NONE),
        "header-caller_relationship": "Mother",
        "header-person_present": "no",
        "header-caller_advice": "Stay with him tonight; call 988 or 911 if he talks of dying.",
    },
    ContactType.FOLLOW_UP: {"header-followup_outcome": "no_answer"},
}

# (type, the rule code a missing requirement names, the fields that make it missing)
MISSING: list[tuple[str, str, dict[str, Any]]] = [
    (ContactType.FULL, "confidentiality_explained", {"header-confidentiality_explained": None}),
    (ContactType.FULL, "crisis_numbers_given", {"follow_up-crisis_numbers_given": None}),
    (ContactType.FULL, "precipitating_event", {"exploration-precipitating_event": ""}),
    (ContactType.FULL, "interventions", {"problem_solving-interventions": ""}),
    (ContactType.FULL, "disposition", {"follow_up-disposition": ""}),
    (ContactType.FULL, "agitation", {"safety-means-agitation": ""}),
    (ContactType.FULL, "cssrs_incomplete", NO_SCREEN),
    (ContactType.DISCONNECTED, "contact_summary", {"header-contact_summary": ""}),
    (ContactType.DISCONNECTED, "after_disconnect", {"header-after_disconnect": ""}),
    (ContactType.DISCONNECTED, "cssrs_incomplete", {"safety-screen-not_done_reason": ""}),
    (ContactType.SILENT, "contact_summary", {"header-contact_summary": ""}),
    (ContactType.WRONG_NUMBER, "contact_summary", {"header-contact_summary": ""}),
    (ContactType.THIRD_PARTY, "caller_relationship", {"header-caller_relationship": ""}),
    (ContactType.THIRD_PARTY, "person_present", {"header-person_present": ""}),
    (ContactType.THIRD_PARTY, "caller_advice", {"header-caller_advice": ""}),
    (ContactType.THIRD_PARTY, "confidentiality_explained", {SPOKE_CONFIDENTIALITY: None}),
    (ContactType.THIRD_PARTY, "crisis_numbers_given", {"follow_up-crisis_numbers_given": None}),
    (ContactType.THIRD_PARTY, "cssrs_incomplete", NO_SCREEN),
    (ContactType.FOLLOW_UP, "answers_task", {"header-answers_task": ""}),
    (ContactType.FOLLOW_UP, "followup_outcome", {"header-followup_outcome": ""}),
]


def _task(author: User, note: CrisisSession) -> FollowUpTask:
    """A follow-up task from an earlier session with the same client."""
    earlier = start_note(author, note.client)
    return FollowUpTask.objects.create(
        clinic=note.clinic,
        session=earlier,
        client=note.client,
        assigned_to=author,
        due_at=note.started_at + timedelta(hours=1),
        method="call",
    )


def _note(author: User, contact_type: str, **overrides: Any) -> CrisisSession:
    note = start_note(author)
    data: dict[str, Any] = {
        "header-contact_type": contact_type,
        # A session cannot end in the future: a note started just now ends now.
        "header-ended_at": timezone.localtime(
            min(note.started_at + timedelta(minutes=30), timezone.now())
        ).strftime("%Y-%m-%dT%H:%M"),
        **BASE[contact_type],
    }
    if contact_type == ContactType.FOLLOW_UP:
        data["header-answers_task"] = str(_task(author, note).pk)
    data.update(overrides)
    return _save(note, data)


def _save(note: CrisisSession, overrides: dict[str, Any]) -> CrisisSession:
    note = reload(note)
    note_autosave(
        note=note,
        user=note.author,
        base_version=note.version,
        data=form_data(note, **overrides),
    )
    return reload(note)


def _codes(note: CrisisSession) -> set[str]:
    return {p.code for p in note_sign_problems(reload(note))}


@pytest.mark.parametrize("contact_type", list(BASE))
def test_each_type_signs_with_what_it_requires(counselor: User, contact_type: str) -> None:
    note = _note(counselor, contact_type)
    assert _codes(note) == set()
    signed = note_sign(note=reload(note), user=counselor)
    assert signed.status == NoteStatus.SIGNED
    assert signed.content_hash == note_content_hash(reload(signed))


@pytest.mark.parametrize(
    ("contact_type", "code", "missing"),
    MISSING,
    ids=[f"{t}-{c}" for t, c, _ in MISSING],
)
def test_each_requirement_missing_is_named(
    counselor: User, contact_type: str, code: str, missing: dict[str, Any]
) -> None:
    note = _note(counselor, contact_type, **missing)
    assert code in _codes(note)
    with pytest.raises(SignRefused) as refused:
        note_sign(note=reload(note), user=counselor)
    assert code in {p.code for p in refused.value.problems}


@pytest.mark.parametrize(
    "contact_type", [ContactType.SILENT, ContactType.WRONG_NUMBER, ContactType.DISCONNECTED]
)
def test_no_one_spoken_with_no_confidentiality_or_full_session_fields(
    counselor: User, contact_type: str
) -> None:
    """A 20-second hang-up does not attest 'limits of confidentiality explained'."""
    note = _note(counselor, contact_type)
    assert not reload(note).confidentiality_explained
    assert {
        "confidentiality_explained",
        "crisis_numbers_given",
        "precipitating_event",
        "suds_start",
        "interventions",
        "disposition",
        "followup_plan",
        "agitation",
    }.isdisjoint(_codes(note))


def test_follow_up_contact_that_reached_the_client_asks_since_last_contact(
    counselor: User,
) -> None:
    reached = {"header-followup_outcome": "reached_safe", **SPOKE}
    note = _note(counselor, ContactType.FOLLOW_UP, **reached, **screen(NONE))
    assert {"cssrs_version", "agitation"} <= _codes(note)
    note = _save(
        note,
        {"safety-screen-version": "since_last_contact", "safety-means-agitation": "1"},
    )
    assert _codes(note) == set()
    note = _save(note, {"header-confidentiality_explained": None})
    assert _codes(note) == {"confidentiality_explained"}


def test_third_party_at_moderate_risk_needs_means_but_no_client_safety_plan(
    counselor: User, supervisor: User
) -> None:
    note = _note(
        counselor,
        ContactType.THIRD_PARTY,
        **screen(MODERATE),
        **{
            "safety-formulation-clinician_level": "moderate",
            "safety-formulation-rationale": "As reported by his mother: plan, no intent.",
        },
    )
    codes = _codes(note)
    assert "safety_plan" not in codes
    assert {"means_firearms", "followup_task_moderate"} <= codes
    note = _save(
        note,
        {
            "safety-means-means_not_done_reason": "other",
            "safety-means-means_not_done_text": "Caller does not know what is in his flat.",
            "follow_up-task_not_done_reason": "no_contact_info",
        },
    )
    assert _codes(note) == set()
    assert note_sign(note=reload(note), user=counselor).status == NoteStatus.SIGNED


def test_full_session_at_moderate_risk_needs_a_plan_or_a_reason(counselor: User) -> None:
    note = _note(
        counselor,
        ContactType.FULL,
        **screen(MODERATE),
        **{
            "safety-formulation-clinician_level": "moderate",
            "safety-formulation-rationale": "Plan without intent.",
            "safety-means-firearms": "no",
            "safety-means-medications": "no",
            "safety-means-other_means": "no",
            "follow_up-task_not_done_reason": "refused",
        },
    )
    assert _codes(note) == {"safety_plan"}
    note = _save(note, {"safety-formulation-plan_not_done_reason": "refused"})
    assert _codes(note) == set()
    # Moderate, not high: signed and locked, no co-sign for the reasons.
    assert note_sign(note=reload(note), user=counselor).status == NoteStatus.SIGNED


def test_hang_up_with_intent_needs_supervisor_and_24h_follow_up_or_reasons(
    counselor: User,
) -> None:
    note = _note(counselor, ContactType.DISCONNECTED, **{"header-intent_stated": "on"})
    assert {"supervisor_notified", "followup_task_high"} <= _codes(note)
    note = _save(
        note,
        {
            "safety-formulation-supervisor_not_done_reason": "emergency_services",
            "safety-formulation-supervisor_not_done_text": "Dispatch took over at 14:05.",
            "follow_up-task_not_done_reason": "no_contact_info",
        },
    )
    assert _codes(note) == set()
    signed = note_sign(note=reload(note), user=counselor)
    assert signed.status == NoteStatus.AWAITING_COSIGN
    assert "High risk signed with reasons" in signed.cosign_required_reason
    assert "Supervisor response (Emergency services dispatched / took over" in (
        signed.cosign_required_reason
    )


def test_silent_call_with_danger_heard_is_handled_like_a_hang_up_with_risk(
    counselor: User,
) -> None:
    note = _note(counselor, ContactType.SILENT, **{"header-intent_stated": "on"})
    assert {"after_disconnect", "supervisor_notified", "followup_task_high"} <= _codes(note)


def test_high_risk_transfer_to_ed_without_a_plan_signs_for_co_sign(
    counselor: User, supervisor: User
) -> None:
    note = _note(
        counselor,
        ContactType.FULL,
        **screen(HIGH),
        **{
            "safety-formulation-clinician_level": "high",
            "safety-formulation-rationale": "Intent with a plan tonight.",
            "follow_up-disposition": "emergency_department",
            "safety-formulation-plan_not_done_reason": "transferred_ed",
            "safety-means-means_not_done_reason": "transferred_ed",
        },
    )
    SupervisorNotification.objects.create(
        session=note,
        supervisor=supervisor,
        supervisor_name=supervisor.display_name,
        notified_at=note.started_at,
        method="phone",
        response="Agree: ED.",
        responded_at=note.started_at,
        created_by=counselor,
    )
    FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=counselor,
        due_at=note.started_at + timedelta(hours=12),
        method="call",
    )
    assert _codes(note) == set()
    signed = note_sign(note=reload(note), user=counselor)
    assert signed.status == NoteStatus.AWAITING_COSIGN
    assert "Safety plan (Transferred to emergency department)" in signed.cosign_required_reason


def test_other_reason_without_text_is_refused_and_nothing_saved(counselor: User) -> None:
    from sessions.exceptions import NoteInvalid

    note = _note(counselor, ContactType.FULL)
    version = reload(note).version
    with pytest.raises(NoteInvalid):
        _save(note, {"follow_up-task_not_done_reason": "other"})
    assert reload(note).version == version
    assert reload(note).follow_up.task_not_done_reason == ""


def test_reasons_and_contact_details_are_in_the_content_hash(counselor: User) -> None:
    note = _note(counselor, ContactType.THIRD_PARTY)
    before = note_content_hash(reload(note))
    note = _save(note, {"header-caller_advice": "Different advice."})
    after_advice = note_content_hash(reload(note))
    note = _save(note, {"follow_up-task_not_done_reason": "refused"})
    assert len({before, after_advice, note_content_hash(reload(note))}) == 3


def test_the_table_covers_every_contact_type() -> None:
    assert set(TABLE) == set(ContactType.values)
    assert all(isinstance(r, Requirement) for rows in TABLE.values() for r in rows)


def test_requirements_follow_the_note_as_it_stands(counselor: User) -> None:
    note = _note(counselor, ContactType.FOLLOW_UP)
    assert Requirement.SCREEN not in requirements(reload(note))
    note = _save(note, {"header-followup_outcome": "reached_needs_help"})
    assert Requirement.SINCE_LAST_CONTACT in requirements(reload(note))


def test_signed_follow_up_contact_logs_its_outcome_on_the_task_once(
    counselor: User, client
) -> None:
    from sessions.services.followups import followup_contact_record

    note = _note(counselor, ContactType.FOLLOW_UP, **{"header-followup_outcome": "declined"})
    task = reload(note).answers_task
    assert task is not None and task.is_open
    client.force_login(counselor)
    response = client.post(f"/notes/{note.pk}/sign/")
    assert response.status_code == 302
    task.refresh_from_db()
    assert not task.is_open and task.outcome == "declined"
    attempt = task.attempts.get()
    assert attempt.notes == f"Follow-up contact, session #{note.pk}"
    assert followup_contact_record(note=reload(note), actor=counselor) is None  # once


def test_follow_up_contact_with_no_answer_keeps_the_task_open(counselor: User) -> None:
    from sessions.services.followups import followup_contact_record

    note = _note(counselor, ContactType.FOLLOW_UP)
    signed = note_sign(note=reload(note), user=counselor)
    attempt = followup_contact_record(note=signed, actor=counselor)
    assert attempt is not None and attempt.outcome == "no_answer"
    task = reload(note).answers_task
    assert task is not None and task.is_open
