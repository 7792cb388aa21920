"""The safety stage in FHIR R4: the C-SSRS screen as a QuestionnaireResponse (with the
Questionnaire it answers, contained), the screen's and the clinician's risk as RiskAssessments,
the safety plan version in force as a CarePlan, and each disclosure as a Communication.

Pure functions of the stored rows (SafetySection.fhir_resources calls `safety_fhir_resources`);
the Bundle around them is built by sessions/fhir.py. Codes: LOINC for the C-SSRS panel (93373-9),
its items, yes/no (LA33-6/LA32-8) and the risk level (93374-7: LA9194-7/LA6751-7/LA9193-9);
local code systems (docs/fhir.md) for everything LOINC does not name.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from safety.cssrs import ITEMS, CssrsVersion, Item
from safety.forms import PROTECTIVE_FACTORS, RISK_FACTORS, flat
from safety.models import (
    CONTACT_STEPS,
    Disclosure,
    PlanStep,
    RiskFormulation,
    SafetyPlanVersion,
    SafetyScreen,
)
from safety.selectors import plan_in_force
from sessions.fhir import (
    EXTENSION,
    LOINC,
    FhirRefs,
    annotation,
    coding,
    compact,
    concept,
    fhir_instant,
    identifier,
    local_coding,
    reference,
)
from sessions.models import CrisisSession
from sessions.risk import risk_label

CSSRS_PANEL = ("93373-9", "Columbia Suicide Severity Rating Scale Screen Version - Recent")
RISK_LEVEL_CODE = ("93374-7", "C-SSRS screener risk level")
YES = ("LA33-6", "Yes")
NO = ("LA32-8", "No")
# LOINC answers of 93374-7; "none" has no LOINC answer and keeps only the local code.
RISK_ANSWERS = {
    "low": ("LA9194-7", "Low risk"),
    "moderate": ("LA6751-7", "Moderate risk"),
    "high": ("LA9193-9", "High risk"),
}


def _yes_no(value: bool) -> dict[str, str]:
    code, display = YES if value else NO
    return coding(LOINC, code, display)


def _items(version: str) -> list[Item]:
    """The items of this version: the since-last-contact version has no 6b."""
    if version == CssrsVersion.SINCE_LAST_CONTACT:
        return [item for item in ITEMS if item.key != "q6b"]
    return list(ITEMS)


def item_text(item: Item, version: str) -> str:
    """The question as asked in this version. The since-last-contact version asks every item
    about the time since the last contact and never says "ever" (CLINICAL.md §1): "Since last
    contact, have you …", item 6 "Since last contact, have you done anything, started to do
    anything, or prepared to do anything to end your life?"."""
    if version != CssrsVersion.SINCE_LAST_CONTACT:
        return item.text
    assert item.text.startswith("Have you ")
    return "Since last contact, have you " + item.text.removeprefix("Have you ").removeprefix(
        "ever "
    )


def _enable_when(item: Item) -> list[dict[str, Any]]:
    """The skip logic of safety/cssrs.py in Questionnaire terms."""
    yes = _yes_no(True)
    if item.key in ("q3", "q4", "q5"):
        return [{"question": "2", "operator": "=", "answerCoding": yes}]
    if item.key == "q6":
        return [{"question": "2", "operator": "exists", "answerBoolean": True}]
    if item.key == "q6b":
        return [{"question": "6", "operator": "=", "answerCoding": yes}]
    return []


def cssrs_questionnaire(version: str) -> dict[str, Any]:
    """The screen's Questionnaire (to be contained in the response): verbatim items, LOINC
    codes, yes/no answers and the skip logic as enableWhen."""
    return compact(
        {
            "resourceType": "Questionnaire",
            "id": f"cssrs-{version.replace('_', '-')}",
            "status": "active",
            "title": f"C-SSRS screen ({CssrsVersion(version).label})",
            "code": [coding(LOINC, *CSSRS_PANEL)],
            "item": [
                {
                    "linkId": item.number,
                    "code": [coding(LOINC, item.loinc)],
                    "prefix": item.number,
                    "text": item_text(item, version),
                    "type": "choice",
                    "required": item.key in ("q1", "q2"),
                    "enableWhen": _enable_when(item),
                    "answerOption": [
                        {"valueCoding": _yes_no(True)},
                        {"valueCoding": _yes_no(False)},
                    ],
                }
                for item in _items(version)
            ],
        }
    )


def _questionnaire_response(
    note: CrisisSession, screen: SafetyScreen, refs: FhirRefs
) -> dict[str, Any]:
    questionnaire = cssrs_questionnaire(screen.version)
    answered = [
        (item, getattr(screen, item.key))
        for item in _items(screen.version)
        if getattr(screen, item.key) is not None
    ]
    return compact(
        {
            "resourceType": "QuestionnaireResponse",
            "id": f"session-{note.pk}-cssrs",
            "contained": [questionnaire],
            "questionnaire": f"#{questionnaire['id']}",
            # A screen that could not be done is "stopped"; its reason is on the screen's
            # RiskAssessment (QuestionnaireResponse has no element for it).
            "status": "stopped" if screen.not_done_reason else "completed",
            "subject": dict(refs.patient),
            "encounter": dict(refs.encounter),
            "authored": fhir_instant(note.signed_at),
            "author": dict(refs.signer) if refs.signer else None,
            "source": dict(refs.patient),
            "item": [
                {
                    "linkId": item.number,
                    "text": item_text(item, screen.version),
                    "answer": [{"valueCoding": _yes_no(value)}],
                }
                for item, value in answered
            ],
        }
    )


def _risk_prediction(level: str, rationale: str = "") -> dict[str, Any]:
    codings = [local_coding("risk-level", level, risk_label(level))]
    if level in RISK_ANSWERS:
        codings.insert(0, coding(LOINC, *RISK_ANSWERS[level]))
    return {
        "outcome": {"text": "Suicidal behaviour"},
        "qualitativeRisk": concept(*codings, text=risk_label(level)),
        "rationale": rationale,
    }


def _screen_risk(
    note: CrisisSession, screen: SafetyScreen, response: dict[str, Any], refs: FhirRefs
) -> dict[str, Any]:
    notes = []
    if screen.not_done_reason:
        notes.append(
            annotation(
                f"C-SSRS could not be completed: {screen.get_not_done_reason_display()}"
                + (f" — {screen.not_done_text}" if screen.not_done_text else "")
            )
        )
    return compact(
        {
            "resourceType": "RiskAssessment",
            "id": f"session-{note.pk}-screen-risk",
            # "cancelled": the measurement was not started or not completed (ObservationStatus).
            "status": "final" if screen.risk else "cancelled",
            "method": concept(coding(LOINC, *CSSRS_PANEL)),
            "code": concept(coding(LOINC, *RISK_LEVEL_CODE)),
            "subject": dict(refs.patient),
            "encounter": dict(refs.encounter),
            "occurrenceDateTime": fhir_instant(note.started_at),
            "performer": dict(refs.signer) if refs.signer else None,
            "basis": [reference(response)],
            "prediction": [_risk_prediction(screen.risk)] if screen.risk else [],
            "note": notes,
        }
    )


def _clinician_risk(
    note: CrisisSession,
    formulation: RiskFormulation,
    basis: list[dict[str, Any]],
    refs: FhirRefs,
) -> dict[str, Any]:
    risk_labels = flat(RISK_FACTORS)
    protective_labels = flat(PROTECTIVE_FACTORS)
    risk_factors = [risk_labels.get(c, c) for c in formulation.risk_factors or []]
    if formulation.risk_factors_other:
        risk_factors.append(formulation.risk_factors_other)
    protective = [protective_labels.get(c, c) for c in formulation.protective_factors or []]
    if formulation.protective_factors_other:
        protective.append(formulation.protective_factors_other)
    notes = []
    if formulation.override_reason:
        notes.append(
            annotation(
                f"Clinician level below the screen's; override: {formulation.override_reason}"
            )
        )
    if risk_factors:
        notes.append(annotation("Risk factors: " + "; ".join(risk_factors)))
    if protective:
        notes.append(annotation("Protective factors: " + "; ".join(protective)))
    means = note.means_safety
    access = [
        f"{label}: {getattr(means, f'get_{name}_display')()}"
        for name, label in (
            ("firearms", "firearms"),
            ("medications", "lethal medications"),
            ("other_means", "other lethal means"),
        )
        if getattr(means, name)
    ]
    if access:
        notes.append(annotation("Access to " + "; ".join(access)))
    return compact(
        {
            "resourceType": "RiskAssessment",
            "id": f"session-{note.pk}-clinician-risk",
            "extension": [
                {"url": EXTENSION + "imminent-risk", "valueBoolean": formulation.imminent}
            ],
            "status": "final",
            "method": concept(
                local_coding("assessment-method", "safe-t", "SAFE-T (SAMHSA 2009)"),
                text="SAFE-T suicide risk formulation",
            ),
            "code": concept(
                local_coding("assessment", "clinician-risk-level", "Clinician risk level"),
                text="Clinician risk level",
            ),
            "subject": dict(refs.patient),
            "encounter": dict(refs.encounter),
            "occurrenceDateTime": fhir_instant(note.started_at),
            "performer": dict(refs.signer) if refs.signer else None,
            "basis": basis,
            "prediction": [_risk_prediction(formulation.clinician_level, formulation.rationale)],
            "mitigation": means.means_safety_notes,
            "note": notes,
        }
    )


def _entry_text(step: str, entry: Any) -> str:
    if step in CONTACT_STEPS and isinstance(entry, dict):
        name, phone = entry.get("name", ""), entry.get("phone", "")
        return f"{name} ({phone})" if name and phone else name or phone
    return str(entry)


def _care_plan(plan: SafetyPlanVersion, refs: FhirRefs) -> dict[str, Any]:
    """The safety plan version in force, its six Stanley-Brown steps as activities in order.
    Each step's entries are its description, one per line."""
    notes = []
    if plan.likelihood_of_use is not None:
        notes.append(annotation(f"Likelihood of use (0–10): {plan.likelihood_of_use}"))
    if plan.barriers:
        notes.append(annotation(f"Barriers: {plan.barriers}"))
    if plan.copy_kept_where:
        notes.append(annotation(f"Where the client keeps the copy: {plan.copy_kept_where}"))
    notes.append(annotation(f"Copy given to the client: {'yes' if plan.copy_given else 'no'}"))
    activities = []
    for step in PlanStep:
        entries = [_entry_text(step, e) for e in plan.entries(step)]
        activities.append(
            {
                "detail": {
                    "code": concept(
                        local_coding("safety-plan-step", step.value, str(step.label)),
                        text=str(step.label),
                    ),
                    "status": "in-progress" if entries else "not-started",
                    "description": "\n".join(e for e in entries if e),
                }
            }
        )
    return compact(
        {
            "resourceType": "CarePlan",
            "id": f"safety-plan-{plan.pk}",
            "identifier": [identifier("safety-plan-version", f"{plan.client_id}-v{plan.number}")],
            "status": "active" if plan.is_active else "draft",
            "intent": "plan",
            "category": [
                concept(
                    local_coding("care-plan-category", "safety-plan", "Safety plan"),
                    text="Stanley-Brown Safety Planning Intervention",
                )
            ],
            "title": f"Safety plan, version {plan.number}",
            "description": plan.worth_living_for
            and f"The one thing most important to me and worth living for: {plan.worth_living_for}",
            "subject": dict(refs.patient),
            "encounter": dict(refs.encounter) if plan.session_id == refs.note.pk else None,
            "created": fhir_instant(plan.created_at),
            "author": refs.user(plan.created_by_id, plan.created_by.display_name),
            "activity": activities,
            "note": notes,
        }
    )


def _communication(disclosure: Disclosure, refs: FhirRefs) -> dict[str, Any]:
    """A disclosure without consent (the accounting of disclosures), as what was communicated,
    to whom, when and why."""
    notes = [
        annotation(f"{label}: {value}")
        for label, value in (
            ("Threat", disclosure.threat_description),
            ("Identifiable victim", disclosure.identifiable_victim),
            ("Imminence", disclosure.imminence),
            ("Consulted with", disclosure.consulted_with),
        )
        if value
    ]
    notes.append(
        annotation(
            "Client informed of the disclosure"
            if disclosure.individual_informed
            else f"Client not informed: {disclosure.not_informed_reason or 'no reason recorded'}"
        )
    )
    recipient = disclosure.recipient + (
        f", {disclosure.recipient_address}" if disclosure.recipient_address else ""
    )
    return compact(
        {
            "resourceType": "Communication",
            "id": f"disclosure-{disclosure.pk}",
            "identifier": [
                identifier("disclosure", disclosure.pk),
                *(
                    [
                        {
                            "type": {"text": "Recipient's reference"},
                            "value": disclosure.reference_number,
                        }
                    ]
                    if disclosure.reference_number
                    else []
                ),
            ],
            "status": "completed",
            "category": [
                concept(
                    local_coding("disclosure-type", disclosure.type, disclosure.get_type_display()),
                    text=disclosure.get_type_display(),
                )
            ],
            "subject": dict(refs.patient),
            "about": [dict(refs.patient)],
            "encounter": dict(refs.encounter),
            "sent": fhir_instant(disclosure.disclosed_at),
            "recipient": [{"display": recipient}],
            "sender": refs.user(disclosure.created_by_id),
            "reasonCode": [{"text": f"Legal basis: {disclosure.legal_basis}"}],
            "payload": [
                {"contentString": disclosure.information_disclosed},
                {"contentString": f"Purpose: {disclosure.purpose}"},
            ],
            "note": notes,
        }
    )


def safety_fhir_resources(*, note: CrisisSession, refs: FhirRefs) -> list[dict[str, Any]]:
    # A FHIR export is read by other systems: its display texts are English, whatever the
    # language of the request that asked for it (docs/i18n.md).
    with translation.override("en"):
        return _safety_fhir_resources(note=note, refs=refs)


def _safety_fhir_resources(*, note: CrisisSession, refs: FhirRefs) -> list[dict[str, Any]]:
    screen: SafetyScreen = note.safety_screen
    formulation: RiskFormulation = note.risk_formulation
    resources: list[dict[str, Any]] = []
    basis: list[dict[str, Any]] = []
    screened = screen.not_done_reason or any(v is not None for v in screen.answers.values())
    if screened:
        response = _questionnaire_response(note, screen, refs)
        screen_risk = _screen_risk(note, screen, response, refs)
        resources += [response, screen_risk]
        basis = [reference(response), reference(screen_risk)]
    if formulation.clinician_level:
        resources.append(_clinician_risk(note, formulation, basis, refs))
    plan = plan_in_force(note=note)
    if plan is not None:
        resources.append(_care_plan(plan, refs))
    for disclosure in Disclosure.objects.filter(session=note).order_by("disclosed_at", "id"):
        resources.append(_communication(disclosure, refs))
    return resources
