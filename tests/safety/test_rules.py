"""Sign rules 2–9 (and rule 1's agitation part): each blocks when unmet and passes when met."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from crisisnotes.accounts.models import User
from safety.models import Disclosure, DisclosureType, SafetyScreen, SupervisorNotification
from safety.rules import COSIGN_REASONS, RULES, clinician_below_screen
from safety.sections import SafetySection
from safety.services import disclosure_create, plan_default_steps, safety_plan_save
from sessions import registry
from sessions.models import CrisisSession
from sessions.models.notes import Disposition, Modality
from sessions.services.signing import SignRefused, note_sign
from tests.safety.helpers import (
    HIGH,
    LOW,
    MODERATE,
    NONE,
    add_task,
    codes,
    end,
    reload,
    save,
    screen,
    start_note,
)
from tests.sessions.note_helpers import COMPLETE

pytestmark = pytest.mark.django_db


def formulated(level: str, **extra: Any) -> dict[str, Any]:
    return {
        "safety-formulation-clinician_level": level,
        "safety-formulation-rationale": "Plan and intent with access; protective factors weak.",
        **extra,
    }


def active_plan(note: CrisisSession) -> None:
    steps = plan_default_steps(client=note.client)
    steps.update(
        warning_signs=["Can't sleep, stop answering texts"],
        coping=["Walk the dog"],
        environment=["Sister keeps the pills"],
    )
    safety_plan_save(actor=note.author, client=note.client, steps=steps, fields={}, session=note)


def answered_means(**extra: Any) -> dict[str, Any]:
    return {
        "safety-means-firearms": "no",
        "safety-means-medications": "no",
        "safety-means-other_means": "unknown",
        **extra,
    }


def notified(note: CrisisSession, supervisor: User, response: str = "Agree with ED.") -> None:
    SupervisorNotification.objects.create(
        session=note,
        supervisor=supervisor,
        supervisor_name=supervisor.display_name,
        notified_at=timezone.now(),
        method="phone",
        response=response,
        responded_at=timezone.now() if response else None,
        created_by=note.author,
    )


def disclose(note: CrisisSession, type_: str) -> Disclosure:
    return disclosure_create(
        actor=note.author,
        note=reload(note),
        data={
            "type": type_,
            "legal_basis": "State duty-to-warn statute (invented)",
            "recipient": "Harbour Police Department",
            "disclosed_at": timezone.now(),
            "information_disclosed": "Name of the person at risk and the threat made.",
            "purpose": "Protect the identified person.",
            "individual_informed": True,
        },
    )


# --- rule 1, agitation -------------------------------------------------------------------------


def test_agitation_unrated_blocks_and_a_rating_passes(counselor: User) -> None:
    note = start_note(counselor)
    assert "agitation" in codes(note)
    save(note, **{"safety-means-agitation": "0"})
    assert "agitation" not in codes(note)


def test_video_contact_needs_bars_1_to_7(counselor: User) -> None:
    note = start_note(counselor, modality=Modality.VIDEO)
    save(note, **{"safety-means-agitation": "9"})
    assert "agitation_bars" in codes(note)
    save(note, **{"safety-means-agitation": "4"})
    assert {"agitation", "agitation_bars"}.isdisjoint(codes(note))


# --- rule 2, C-SSRS complete -------------------------------------------------------------------


def test_unanswered_screen_blocks_naming_the_missing_items(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen({"q1": "no"}))
    problems = [p for rule in RULES for p in rule(reload(note)) if p.code == "cssrs_incomplete"]
    assert len(problems) == 1
    assert "unanswered: 2" in problems[0].message
    assert problems[0].field_id == "id_safety-screen-q2"
    assert problems[0].section == "safety"


def test_complete_screen_passes(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(NONE))
    assert {"cssrs_incomplete", "cssrs_inconsistent"}.isdisjoint(codes(note))


def test_screen_not_done_with_a_reason_passes(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-screen-not_done_reason": "hung_up"})
    assert "cssrs_incomplete" not in codes(note)


def test_screen_made_inconsistent_behind_the_forms_back_blocks(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(NONE))
    SafetyScreen.objects.filter(session=note).update(q4=True)
    assert "cssrs_inconsistent" in codes(note)


# --- rule 3, formulation when any yes ----------------------------------------------------------


def test_any_yes_without_formulation_blocks(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(LOW))
    assert {"clinician_level", "rationale"} <= codes(note)
    save(note, **formulated("low"))
    assert {"clinician_level", "rationale"}.isdisjoint(codes(note))


def test_all_no_needs_no_formulation(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(NONE))
    assert {"clinician_level", "rationale"}.isdisjoint(codes(note))


# --- rule 4, override ----------------------------------------------------------------------------


def test_clinician_below_screen_needs_an_override_reason_and_a_cosign(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(HIGH), **formulated("moderate"))
    assert "override_reason" in codes(note)
    assert clinician_below_screen(reload(note)) == (
        "Clinician risk level below the screen's: needs a supervisor's co-signature"
    )
    save(note, **{"safety-formulation-override_reason": "Intent retracted; plan was remote."})
    assert "override_reason" not in codes(note)
    assert clinician_below_screen(reload(note)) is not None


def test_clinician_at_or_above_screen_needs_no_override(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(MODERATE), **formulated("high"))
    assert "override_reason" not in codes(note)
    assert clinician_below_screen(reload(note)) is None


# --- rule 5, plan and means ---------------------------------------------------------------------


def test_moderate_without_plan_or_means_blocks(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(MODERATE), **formulated("moderate"))
    assert {"safety_plan", "means_firearms", "means_medications", "means_other_means"} <= codes(
        note
    )


def test_moderate_with_active_plan_and_means_answered_passes(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(MODERATE), **formulated("moderate"), **answered_means())
    active_plan(note)
    assert {"safety_plan", "means_firearms", "means_medications", "means_other_means"}.isdisjoint(
        codes(note)
    )


def test_incomplete_plan_is_not_active(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(MODERATE), **formulated("moderate"))
    # Step 5 is pre-filled but steps 1, 2 and 6 are empty.
    safety_plan_save(
        actor=counselor,
        client=note.client,
        steps=plan_default_steps(client=note.client),
        fields={},
        session=note,
    )
    assert "safety_plan" in codes(note)


def test_documented_reason_replaces_the_means_questions(counselor: User) -> None:
    note = start_note(counselor)
    save(
        note,
        **screen(MODERATE),
        **formulated("moderate"),
        **{"safety-means-means_not_done_reason": "transferred_ed"},
    )
    assert not any(code.startswith("means_") for code in codes(note))


def test_access_to_means_needs_means_safety_notes(counselor: User) -> None:
    note = start_note(counselor)
    save(
        note,
        **screen(MODERATE),
        **formulated("moderate"),
        **answered_means(**{"safety-means-firearms": "yes"}),
    )
    assert "means_safety_notes" in codes(note)
    save(note, **{"safety-means-means_safety_notes": "Brother will store the rifle tonight."})
    assert "means_safety_notes" not in codes(note)


def test_low_risk_needs_no_plan(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(LOW), **formulated("low"))
    assert {"safety_plan", "means_firearms"}.isdisjoint(codes(note))


# --- rule 6, high or imminent -------------------------------------------------------------------

HIGH_CODES = {"supervisor_notified", "followup_task_high", "disposition_rationale"}


def test_high_risk_blocks_until_supervisor_disposition_and_followup(
    counselor: User, supervisor: User
) -> None:
    note = end(start_note(counselor))
    save(
        note,
        **screen(HIGH),
        **formulated("high"),
        **{"follow_up-disposition": Disposition.STABILISED},
    )
    assert codes(note) >= HIGH_CODES
    notified(note, supervisor)
    add_task(note, hours=20)
    save(note, **{"follow_up-disposition_rationale": "Partner present, means removed."})
    assert HIGH_CODES.isdisjoint(codes(note))


def test_supervisor_notified_without_a_response_still_blocks(
    counselor: User, supervisor: User
) -> None:
    note = end(start_note(counselor))
    save(note, **screen(HIGH), **formulated("high"))
    notified(note, supervisor, response="")
    assert "supervisor_notified" in codes(note)


def test_disposition_other_than_home_needs_no_rationale(counselor: User) -> None:
    note = end(start_note(counselor))
    save(
        note,
        **screen(HIGH),
        **formulated("high"),
        **{"follow_up-disposition": Disposition.ED},
    )
    assert "disposition_rationale" not in codes(note)


def test_high_followup_window_is_the_clinics_setting(counselor: User) -> None:
    note = end(start_note(counselor))
    save(note, **screen(HIGH), **formulated("high"))
    add_task(note, hours=30)
    assert "followup_task_high" in codes(note)
    note.clinic.followup_due_hours_high = 36
    note.clinic.save()
    assert "followup_task_high" not in codes(note)


def test_imminent_flag_applies_the_high_risk_rules(counselor: User) -> None:
    note = end(start_note(counselor))
    save(
        note,
        **screen(LOW),
        **formulated("low", **{"safety-formulation-imminent": "on"}),
    )
    assert {"supervisor_notified", "followup_task_high"} <= codes(note)


def test_below_high_has_no_high_risk_rules(counselor: User) -> None:
    note = end(start_note(counselor))
    save(note, **screen(LOW), **formulated("low"))
    assert HIGH_CODES.isdisjoint(codes(note))


# --- rule 7, moderate follow-up --------------------------------------------------------------


def test_moderate_needs_a_followup_within_the_clinic_window(counselor: User) -> None:
    note = end(start_note(counselor))
    save(note, **screen(MODERATE), **formulated("moderate"))
    assert "followup_task_moderate" in codes(note)
    add_task(note, hours=80)
    assert "followup_task_moderate" in codes(note)
    add_task(note, hours=48)
    assert "followup_task_moderate" not in codes(note)


def test_low_needs_no_followup_task(counselor: User) -> None:
    note = end(start_note(counselor))
    save(note, **screen(LOW), **formulated("low"))
    assert {"followup_task_moderate", "followup_task_high"}.isdisjoint(codes(note))


# --- rule 8, duty to warn ----------------------------------------------------------------------


def test_homicidal_ideation_needs_a_warning_or_a_documented_decision(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-formulation-homicidal_ideation": "present"})
    assert {"duty_to_warn", "duty_to_warn_consulted"} <= codes(note)
    save(
        note,
        **{
            "safety-formulation-duty_to_warn_not_indicated_rationale": "No target, no plan.",
            "safety-formulation-duty_to_warn_consulted_with": "Morgan Testsuper, LCSW",
        },
    )
    assert {"duty_to_warn", "duty_to_warn_consulted"}.isdisjoint(codes(note))


def test_identifiable_target_is_satisfied_by_a_duty_to_warn_disclosure(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-formulation-identifiable_target": "on"})
    assert "duty_to_warn" in codes(note)
    disclose(note, DisclosureType.DUTY_TO_WARN)
    assert {"duty_to_warn", "duty_to_warn_consulted"}.isdisjoint(codes(note))


def test_no_homicidal_ideation_needs_nothing(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-formulation-homicidal_ideation": "none"})
    assert "duty_to_warn" not in codes(note)


# --- rule 9, abuse -------------------------------------------------------------------------------


def test_abuse_disclosed_needs_a_report_or_a_rationale(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-formulation-abuse_disclosed": "on"})
    assert "abuse_report" in codes(note)
    save(note, **{"safety-formulation-abuse_rationale": "Adult, historic, declines; no mandate."})
    assert "abuse_report" not in codes(note)


def test_abuse_report_disclosure_satisfies_rule_9(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-formulation-abuse_disclosed": "on"})
    disclose(note, DisclosureType.CHILD_ABUSE)
    assert "abuse_report" not in codes(note)


def test_a_duty_to_warn_row_does_not_count_as_an_abuse_report(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **{"safety-formulation-abuse_disclosed": "on"})
    disclose(note, DisclosureType.DUTY_TO_WARN)
    assert "abuse_report" in codes(note)


# --- through the note's sign service ---------------------------------------------------------


def test_rules_are_registered_and_listed_at_sign_time(counselor: User) -> None:
    assert isinstance(registry.section("safety"), SafetySection)
    assert clinician_below_screen in COSIGN_REASONS
    note = start_note(counselor)
    save(note, **COMPLETE, **screen(HIGH))
    with pytest.raises(SignRefused) as refused:
        note_sign(note=reload(note), user=counselor)
    problems = {p.code: p for p in refused.value.problems}
    assert {"clinician_level", "rationale", "supervisor_notified", "followup_task_high"} <= set(
        problems
    )
    assert problems["clinician_level"].field_id == "id_safety-formulation-clinician_level_0"


def test_a_low_risk_note_with_the_safety_stage_done_signs(counselor: User) -> None:
    note = start_note(counselor)
    note = end(note)
    save(
        note,
        **COMPLETE,
        **screen(LOW),
        **formulated("low"),
        **{"safety-means-agitation": "2"},
    )
    signed = note_sign(note=reload(note), user=counselor)
    assert signed.status == "signed"
    assert signed.screen_risk == "low"
    assert CrisisSession.objects.get(pk=note.pk).clinician_risk == "low"
