"""The signed record as a FHIR R4 Bundle: every resource validates with the fhir.resources R4
models for a low-risk, a high-risk (plan, follow-ups, disclosure), an anonymous and a co-signed
session, and the Bundle read back holds the note's values: each C-SSRS answer, the risk levels,
each safety-plan step and each follow-up task."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from fhir.resources import construct_fhir_element

from safety.cssrs import ITEM_BY_KEY
from safety.fhir import cssrs_questionnaire
from safety.models import PlanStep, SafetyPlanVersion, SafetyScreen
from sessions.fhir import FhirExportError, note_fhir_bundle
from sessions.models import FollowUpTask
from tests.factories import NoteFactory
from tests.safety.fhir_records import (
    HIGH_ANSWERS,
    LOW_ANSWERS,
    PLAN_STEPS,
    InvalidResource,
    anonymous_note,
    by_id,
    check_bindings,
    cosigned_note,
    draft_record,
    high_risk_note,
    low_risk_note,
    resources_of,
    sign_record,
    validate_bundle,
)

BASE = "https://crisis.example.invalid/fhir"
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
YES, NO = "LA33-6", "LA32-8"


def bundle_of(note):
    bundle = note_fhir_bundle(note=note, base_url=BASE, generated_at=NOW)
    # What a partner system receives is JSON text: read it back from that.
    text = json.dumps(bundle)
    validate_bundle(json.loads(text))
    return json.loads(text)


def stored_answers(note) -> dict[str, str]:
    """The note's C-SSRS answers as stored, in the Bundle's terms (question number → code)."""
    screen = SafetyScreen.objects.get(session=note)
    return {
        ITEM_BY_KEY[key].number: (YES if value else NO)
        for key, value in screen.answers.items()
        if value is not None
    }


def answers_in(bundle) -> dict[str, str]:
    (response,) = resources_of(bundle, "QuestionnaireResponse")
    return {item["linkId"]: item["answer"][0]["valueCoding"]["code"] for item in response["item"]}


def qualitative(risk) -> set[str]:
    return {c["code"] for c in risk["prediction"][0]["qualitativeRisk"]["coding"]}


def test_low_risk_session_validates_and_reads_back(counselor):
    note = low_risk_note(counselor)
    bundle = bundle_of(note)

    assert bundle["type"] == "collection"
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types == [
        "Organization",
        "Patient",
        "Practitioner",
        "Encounter",
        "QuestionnaireResponse",
        "RiskAssessment",
        "RiskAssessment",
        "Provenance",
    ]
    assert answers_in(bundle) == stored_answers(note)
    assert set(answers_in(bundle)) == {ITEM_BY_KEY[k].number for k in LOW_ANSWERS}
    screen = by_id(bundle, "RiskAssessment", f"session-{note.pk}-screen-risk")
    assert screen["code"]["coding"][0]["code"] == "93374-7"
    assert "LA9194-7" in qualitative(screen)
    clinician = by_id(bundle, "RiskAssessment", f"session-{note.pk}-clinician-risk")
    assert "LA9194-7" in qualitative(clinician)
    assert clinician["prediction"][0]["rationale"] == "Passive wish, no plan, strong supports"
    assert resources_of(bundle, "CarePlan") == []
    assert resources_of(bundle, "Task") == []


def test_questionnaire_carries_the_loinc_codes_and_skip_logic(counselor):
    bundle = bundle_of(low_risk_note(counselor))
    (response,) = resources_of(bundle, "QuestionnaireResponse")
    (questionnaire,) = response["contained"]
    assert response["questionnaire"] == f"#{questionnaire['id']}"
    assert questionnaire["code"][0]["code"] == "93373-9"
    codes = {item["linkId"]: item["code"][0]["code"] for item in questionnaire["item"]}
    assert codes == {
        "1": "93246-7",
        "2": "93247-5",
        "3": "93248-3",
        "4": "93249-1",
        "5": "93250-9",
        "6": "93267-3",
        "6b": "93269-9",
    }
    texts = {item["linkId"]: item["text"] for item in questionnaire["item"]}
    assert texts["1"] == ITEM_BY_KEY["q1"].text  # verbatim
    six_b = next(i for i in questionnaire["item"] if i["linkId"] == "6b")
    assert six_b["enableWhen"] == [
        {
            "question": "6",
            "operator": "=",
            "answerCoding": {"system": "http://loinc.org", "code": YES, "display": "Yes"},
        }
    ]
    options = {o["valueCoding"]["code"] for o in six_b["answerOption"]}
    assert options == {YES, NO}


def test_high_risk_session_with_plan_followups_and_disclosure(counselor, teammate):
    note = high_risk_note(counselor, assignee=teammate)
    bundle = bundle_of(note)

    assert answers_in(bundle) == stored_answers(note)
    assert set(answers_in(bundle)) == {ITEM_BY_KEY[k].number for k in HIGH_ANSWERS}
    for risk in resources_of(bundle, "RiskAssessment"):
        assert "LA9193-9" in qualitative(risk)
    clinician = by_id(bundle, "RiskAssessment", f"session-{note.pk}-clinician-risk")
    assert clinician["extension"] == [
        {"url": "urn:crisisnotes:fhir:extension:imminent-risk", "valueBoolean": True}
    ]
    notes = " | ".join(n["text"] for n in clinician["note"])
    assert "Prior suicide attempt" in notes
    assert "Responsibility to family, children or pets" in notes
    assert "lethal medications: Yes" in notes

    # The safety plan in force: six steps, in order, each entry as the plan has it.
    (plan,) = resources_of(bundle, "CarePlan")
    version = SafetyPlanVersion.objects.get(client=note.client)
    assert plan["id"] == f"safety-plan-{version.pk}"
    assert plan["status"] == "active"
    steps = [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]]
    assert steps == [step.value for step in PlanStep]
    for activity in plan["activity"]:
        step = activity["detail"]["code"]["coding"][0]["code"]
        lines = activity["detail"]["description"].split("\n")
        assert PLAN_STEPS[step] == version.steps[step]
        for entry in version.steps[step]:
            if isinstance(entry, dict):
                assert any(entry["name"] in line and entry["phone"] in line for line in lines)
            else:
                assert entry in lines
    assert "My daughter" in plan["description"]

    # Each follow-up: status, due time, owner, outcome.
    tasks = {t["id"]: t for t in resources_of(bundle, "Task")}
    assert len(tasks) == 2
    for task in FollowUpTask.objects.filter(session=note):
        resource = tasks[f"followup-{task.pk}"]
        assert resource["restriction"]["period"]["end"] == task.due_at.astimezone(UTC).isoformat()
        assert resource["owner"]["display"] == teammate.display_name
        assert resource["owner"]["identifier"]["value"] == str(teammate.pk)
        assert resource["description"] == task.purpose
        if task.closed_at:
            assert resource["status"] == "completed"
            assert resource["businessStatus"]["coding"][0]["code"] == "reached_safe"
            assert any("Safe, sleeping better" in n["text"] for n in resource["note"])
        else:
            assert resource["status"] == "ready"
            assert "businessStatus" not in resource

    (disclosure,) = resources_of(bundle, "Communication")
    assert disclosure["category"][0]["coding"][0]["code"] == "duty_to_warn"
    assert disclosure["recipient"] == [{"display": "City police non-emergency desk"}]
    assert {"type": {"text": "Recipient's reference"}, "value": "REF-0042"} in disclosure[
        "identifier"
    ]
    encounter = by_id(bundle, "Encounter", f"session-{note.pk}")
    assert encounter["class"]["code"] == "VR"
    assert encounter["type"][0]["coding"][0]["code"] == "video"
    assert encounter["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] == (
        "mobile_crisis"
    )


def test_anonymous_client_is_pseudonymous(counselor):
    note = anonymous_note(counselor)
    bundle = bundle_of(note)

    (patient,) = resources_of(bundle, "Patient")
    assert patient["name"] == [{"use": "anonymous", "text": "Caller, blue jacket"}]
    assert set(patient) == {"resourceType", "id", "identifier", "name", "managingOrganization"}
    assert "downtown" not in json.dumps(bundle)
    # The screen could not be done: the response says stopped, the screen's risk says why.
    (response,) = resources_of(bundle, "QuestionnaireResponse")
    assert response["status"] == "stopped"
    assert "item" not in response
    screen = by_id(bundle, "RiskAssessment", f"session-{note.pk}-screen-risk")
    assert screen["status"] == "cancelled"
    reason = SafetyScreen(not_done_reason="hung_up").get_not_done_reason_display()
    assert f"{reason} — Chat closed after two lines" in screen["note"][0]["text"]


def test_named_client_carries_name_alias_and_phone(counselor):
    bundle = bundle_of(low_risk_note(counselor))
    (patient,) = resources_of(bundle, "Patient")
    assert {"use": "official", "text": "Jordan Testclient"} in patient["name"]
    assert {"use": "nickname", "text": "Caller, green coat"} in patient["name"]
    assert patient["telecom"] == [{"system": "phone", "value": "555-010-4477"}]


def test_cosigned_session_provenance_carries_both_signatures(trainee, supervisor):
    note = cosigned_note(trainee, supervisor)
    bundle = bundle_of(note)

    practitioners = {p["name"][0]["text"]: p for p in resources_of(bundle, "Practitioner")}
    assert set(practitioners) == {trainee.display_name, supervisor.display_name}
    assert practitioners[supervisor.display_name]["qualification"][0]["code"]["text"] == "LCSW"
    assert practitioners[trainee.display_name]["qualification"][0]["code"]["text"] == (
        "Counseling intern"
    )
    (provenance,) = resources_of(bundle, "Provenance")
    agents = {a["type"]["coding"][0]["code"]: a["who"]["display"] for a in provenance["agent"]}
    assert agents == {"author": trainee.display_name, "verifier": supervisor.display_name}
    assert provenance["recorded"] == note.cosigned_at.astimezone(UTC).isoformat()
    signed, cosigned = provenance["signature"]
    assert signed["when"] == note.signed_at.astimezone(UTC).isoformat()
    assert base64.b64decode(signed["data"]).decode() == note.content_hash
    assert cosigned["when"] == note.cosigned_at.astimezone(UTC).isoformat()
    assert cosigned["type"][0]["code"] == "1.2.840.10065.1.12.1.5"
    assert provenance["entity"][0]["what"]["identifier"]["value"] == note.content_hash
    targets = {t["reference"] for t in provenance["target"]}
    assert f"Encounter/session-{note.pk}" in targets
    assert f"QuestionnaireResponse/session-{note.pk}-cssrs" in targets

    assert answers_in(bundle) == stored_answers(note)
    # Screen moderate, clinician low with the override reason.
    screen = by_id(bundle, "RiskAssessment", f"session-{note.pk}-screen-risk")
    clinician = by_id(bundle, "RiskAssessment", f"session-{note.pk}-clinician-risk")
    assert "LA6751-7" in qualitative(screen)
    assert "LA9194-7" in qualitative(clinician)
    assert any("Method thoughts were last year" in n["text"] for n in clinician["note"])


def test_practitioner_is_the_snapshot_on_the_note_not_todays_user(counselor):
    note = low_risk_note(counselor)
    licence = note.signer_licence
    counselor.credential = "LCSW"
    counselor.licence_number = "CHANGED-1"
    counselor.save()
    bundle = bundle_of(note)
    (practitioner,) = resources_of(bundle, "Practitioner")
    qualification = practitioner["qualification"][0]
    assert qualification["code"]["text"] == "LPC"
    assert qualification["identifier"][0]["value"] == licence


def test_same_client_and_plan_keep_their_ids_across_sessions(counselor):
    first = high_risk_note(counselor)
    second = low_risk_note(counselor)
    # A later session of the same client: same Patient id; the plan in force is the same row.

    # Signed after the plan was saved (the plan in force is the newest saved before signing).
    later = sign_record(
        draft_record(counselor, client=first.client, started_at=timezone.now()), signer=counselor
    )
    a, b = bundle_of(first), bundle_of(later)
    assert resources_of(a, "Patient")[0]["id"] == resources_of(b, "Patient")[0]["id"]
    assert resources_of(a, "CarePlan")[0]["id"] == resources_of(b, "CarePlan")[0]["id"]
    assert "encounter" not in resources_of(b, "CarePlan")[0]
    assert (
        resources_of(bundle_of(second), "Patient")[0]["id"] != resources_of(a, "Patient")[0]["id"]
    )


def test_drafts_have_no_fhir_representation(counselor):
    with pytest.raises(FhirExportError):
        note_fhir_bundle(
            note=NoteFactory.create(author=counselor), base_url=BASE, generated_at=timezone.now()
        )


def test_the_validator_refuses_what_r4_forbids(counselor):
    """The acceptance rests on the validator: it must fail on an invalid resource."""
    from pydantic import ValidationError

    bundle = bundle_of(high_risk_note(counselor))
    task = resources_of(bundle, "Task")[0]
    del task["status"]  # 1..1 in R4
    with pytest.raises(ValidationError, match="status"):
        validate_bundle(bundle)

    bundle = bundle_of(low_risk_note(counselor))
    resources_of(bundle, "RiskAssessment")[0]["occurrenceDateTime"] = "yesterday"
    with pytest.raises(ValidationError, match="occurrenceDateTime"):
        validate_bundle(bundle)

    bundle = bundle_of(low_risk_note(counselor))
    resources_of(bundle, "Encounter")[0]["status"] = "signed"  # not in EncounterStatus
    with pytest.raises(InvalidResource, match=r"Encounter\.status"):
        validate_bundle(bundle)


def test_a_coded_contact_type_maps_to_encounter_type_in_one_line(counselor):
    """ENCOUNTER_TYPE_FIELDS names `contact_type`: once the note has the field, its code is an
    Encounter.type next to the modality, with nothing else to change."""
    from sessions.fhir import ENCOUNTER_TYPE_FIELDS, note_fhir_resources

    assert ("contact_type", "contact-type") in ENCOUNTER_TYPE_FIELDS
    note = low_risk_note(counselor)
    note.contact_type = "silent"  # what the field will hold
    encounter = next(r for r in note_fhir_resources(note) if r["resourceType"] == "Encounter")
    codes = [(t["coding"][0]["system"], t["coding"][0]["code"]) for t in encounter["type"]]
    assert codes == [
        ("urn:crisisnotes:codesystem:modality", "phone"),
        ("urn:crisisnotes:codesystem:contact-type", "silent"),
    ]


def test_since_last_contact_questionnaire_has_no_6b_and_never_says_ever():
    questionnaire = cssrs_questionnaire("since_last_contact")
    texts = {item["linkId"]: item["text"] for item in questionnaire["item"]}
    assert set(texts) == {"1", "2", "3", "4", "5", "6"}
    assert texts["6"] == (
        "Since last contact, have you done anything, started to do anything, or prepared to do "
        "anything to end your life?"
    )
    assert all(t.startswith("Since last contact, have you ") for t in texts.values())
    assert not any(" ever " in t for t in texts.values())
    construct_fhir_element("Questionnaire", questionnaire)
    check_bindings(questionnaire)
