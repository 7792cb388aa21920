"""Signed records for the FHIR tests, in the four shapes the acceptance names: low risk, high
risk with a safety plan, follow-ups and a disclosure, anonymous, and co-signed. Built as the app
stores them: a draft with every section's rows, filled while it is a draft (the triggers freeze
them afterwards), the real content hash, then the signature columns. Every person is invented.

`validate_bundle` parses the Bundle and every resource in it with the fhir.resources R4 models
(fhir.resources 6.4.x is FHIR 4.0.1; docs/fhir.md says why that version).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from fhir.resources import construct_fhir_element

from crisisnotes.accounts.models import User
from safety.models import (
    Disclosure,
    MeansSafety,
    RiskFormulation,
    SafetyPlanVersion,
    SafetyScreen,
)
from sessions.models import Client, CrisisSession, FollowUpAttempt, FollowUpTask
from sessions.models.notes import FollowUpStage
from sessions.services.signing import note_content_hash
from tests.factories import ClientFactory, NoteFactory

LOW_ANSWERS = {"q1": True, "q2": False, "q6": False}
HIGH_ANSWERS = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": True}

PLAN_STEPS: dict[str, list[Any]] = {
    "warning_signs": ["Not sleeping for two nights", "Giving things away"],
    "coping": ["Walk the dog around the block"],
    "distraction": [{"name": "Corner café", "phone": ""}],
    "help": [{"name": "Dana Testsister", "phone": "555-010-2233"}],
    "professionals": [
        {"name": "988 Suicide & Crisis Lifeline", "phone": "988"},
        {"name": "Harbour General ED", "phone": "555-010-9000"},
    ],
    "environment": ["Pills locked at the neighbour's"],
}


def sign_record(
    note: CrisisSession, *, signer: User, cosigner: User | None = None, **fields: Any
) -> CrisisSession:
    note = CrisisSession.objects.get(pk=note.pk)
    ended = note.started_at + timedelta(minutes=45)
    CrisisSession.objects.filter(pk=note.pk).update(ended_at=ended, **fields)
    note = CrisisSession.objects.get(pk=note.pk)
    signed_at = ended + timedelta(minutes=10)
    values: dict[str, Any] = {
        "status": "signed",
        "signed_by": signer,
        "signed_at": signed_at,
        "signer_name": signer.display_name,
        "signer_credential": signer.credential,
        "signer_licence": signer.licence_number,
        "content_hash": note_content_hash(note),
    }
    if cosigner is not None:
        values.update(
            cosign_required_reason="Author is a trainee",
            cosigned_by=cosigner,
            cosigned_at=signed_at + timedelta(hours=1),
            cosigner_name=cosigner.display_name,
            cosigner_credential=cosigner.credential,
            cosigner_licence=cosigner.licence_number,
            cosign_hash="c" * 64,
        )
    CrisisSession.objects.filter(pk=note.pk).update(**values)
    return CrisisSession.objects.get(pk=note.pk)


def draft_record(author: User, client: Client | None = None, **fields: Any) -> CrisisSession:
    client = client or ClientFactory(
        clinic=author.clinic,
        created_by=author,
        alias="Caller, green coat",
        name="Jordan Testclient",
        phone="555-010-4477",
        language="en",
    )
    started = fields.pop("started_at", timezone.now() - timedelta(hours=3))
    return NoteFactory.create(author=author, client=client, started_at=started, **fields)


def _screen(note: CrisisSession, answers: dict[str, bool], risk: str) -> None:
    SafetyScreen.objects.filter(session=note).update(**answers, risk=risk)


def _follow_up_stage(note: CrisisSession, disposition: str = "stabilised_home") -> None:
    FollowUpStage.objects.filter(session=note).update(
        followup_plan="Call back tomorrow",
        crisis_numbers_given=True,
        disposition=disposition,
    )


def low_risk_note(author: User) -> CrisisSession:
    note = draft_record(author)
    _screen(note, LOW_ANSWERS, "low")
    RiskFormulation.objects.filter(session=note).update(
        clinician_level="low", rationale="Passive wish, no plan, strong supports"
    )
    MeansSafety.objects.filter(session=note).update(agitation=2)
    _follow_up_stage(note)
    return sign_record(note, signer=author, screen_risk="low", clinician_risk="low")


def high_risk_note(author: User, *, assignee: User | None = None) -> CrisisSession:
    """High risk, a safety plan saved in the session, two follow-ups (one closed after an
    attempt) and a duty-to-warn disclosure."""
    note = draft_record(author, modality="video")
    _screen(note, HIGH_ANSWERS, "high")
    RiskFormulation.objects.filter(session=note).update(
        risk_factors=["prior_attempt", "hopelessness"],
        protective_factors=["responsibility"],
        clinician_level="high",
        imminent=True,
        rationale="Intent with a plan and access to pills",
        homicidal_ideation="present",
        identifiable_target=True,
    )
    MeansSafety.objects.filter(session=note).update(
        agitation=5,
        medications="yes",
        firearms="no",
        means_safety_notes="Pills handed to the neighbour",
    )
    _follow_up_stage(note, disposition="mobile_crisis")
    SafetyPlanVersion.objects.create(
        clinic=note.clinic,
        client=note.client,
        number=1,
        session=note,
        steps=PLAN_STEPS,
        worth_living_for="My daughter",
        likelihood_of_use=8,
        copy_given=True,
        created_by=author,
    )
    Disclosure.objects.create(
        clinic=note.clinic,
        client=note.client,
        session=note,
        type="duty_to_warn",
        legal_basis="State duty-to-protect statute (test)",
        threat_description="Threatened a named co-worker",
        identifiable_victim="A co-worker",
        recipient="City police non-emergency desk",
        reference_number="REF-0042",
        disclosed_at=note.started_at + timedelta(minutes=30),
        information_disclosed="Name of the client, the threat and the place of work",
        purpose="Protect the identified person",
        individual_informed=True,
        created_by=author,
    )
    # The plan's tasks are part of the signed record: the database refuses them once the note
    # is signed, so they are added to the draft, as the app does; attempts and closing follow.
    ended = note.started_at + timedelta(minutes=45)
    first = FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=assignee or author,
        due_at=ended + timedelta(hours=12),
        method="call",
        purpose="Check the plan is in use",
        created_by=author,
    )
    FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=assignee or author,
        due_at=ended + timedelta(hours=48),
        method="visit",
        purpose="Home visit with the mobile team",
        created_by=author,
    )
    note = sign_record(
        note, signer=author, screen_risk="high", clinician_risk="high", imminent=True
    )
    FollowUpAttempt.objects.create(
        task=first,
        attempted_at=ended + timedelta(hours=11),
        method="call",
        outcome="reached_safe",
        notes="Using step 2",
        by=assignee or author,
    )
    FollowUpTask.objects.filter(pk=first.pk).update(
        outcome="reached_safe",
        outcome_notes="Safe, sleeping better",
        closed_at=ended + timedelta(hours=11),
        closed_by=assignee or author,
    )
    return note


def anonymous_note(author: User) -> CrisisSession:
    client = ClientFactory(
        clinic=author.clinic,
        created_by=author,
        alias="Caller, blue jacket",
        age_range="18_24",
        location="Somewhere downtown",
    )
    note = draft_record(author, client=client, modality="chat")
    SafetyScreen.objects.filter(session=note).update(
        not_done_reason="hung_up", not_done_text="Chat closed after two lines"
    )
    _follow_up_stage(note)
    return sign_record(note, signer=author)


def cosigned_note(author: User, supervisor: User) -> CrisisSession:
    note = draft_record(author)
    answers = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}
    _screen(note, answers, "moderate")
    RiskFormulation.objects.filter(session=note).update(
        clinician_level="low",
        rationale="Ideation is old and fleeting",
        override_reason="Method thoughts were last year; none now",
    )
    MeansSafety.objects.filter(session=note).update(agitation=1)
    _follow_up_stage(note)
    return sign_record(
        note,
        signer=author,
        cosigner=supervisor,
        screen_risk="moderate",
        clinician_risk="low",
    )


# The R4 value sets with a *required* binding for the coded elements we emit. fhir.resources
# checks structure, cardinality, types and primitive formats, not bindings, so these are
# checked here (values copied from the R4 specification's value sets).
REQUIRED_BINDINGS: dict[tuple[str, str], set[str]] = {
    ("Bundle", "type"): {
        "document", "message", "transaction", "transaction-response", "batch",
        "batch-response", "history", "searchset", "collection",
    },
    ("Patient", "name.use"): {
        "usual", "official", "temp", "nickname", "anonymous", "old", "maiden",
    },
    ("Patient", "telecom.system"): {"phone", "fax", "email", "pager", "url", "sms", "other"},
    ("Organization", "telecom.system"): {
        "phone", "fax", "email", "pager", "url", "sms", "other",
    },
    ("Encounter", "status"): {
        "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
        "entered-in-error", "unknown",
    },
    ("Questionnaire", "status"): {"draft", "active", "retired", "unknown"},
    ("Questionnaire", "item.type"): {
        "group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
        "string", "text", "url", "choice", "open-choice", "attachment", "reference", "quantity",
    },
    ("Questionnaire", "item.enableWhen.operator"): {"exists", "=", "!=", ">", "<", ">=", "<="},
    ("QuestionnaireResponse", "status"): {
        "in-progress", "completed", "amended", "entered-in-error", "stopped",
    },
    ("RiskAssessment", "status"): {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    ("CarePlan", "status"): {
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown",
    },
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("CarePlan", "activity.detail.status"): {
        "not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled",
        "stopped", "unknown", "entered-in-error",
    },
    ("Task", "status"): {
        "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
        "in-progress", "on-hold", "failed", "completed", "entered-in-error",
    },
    ("Task", "intent"): {
        "unknown", "proposal", "plan", "order", "original-order", "reflex-order",
        "filler-order", "instance-order", "option",
    },
    ("Communication", "status"): {
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
        "entered-in-error", "unknown",
    },
    ("Provenance", "entity.role"): {"derivation", "revision", "quotation", "source", "removal"},
}  # fmt: skip


class InvalidResource(ValueError):
    pass


def _values(node: Any, path: list[str]) -> list[Any]:
    if isinstance(node, list):
        return [v for item in node for v in _values(item, path)]
    if not path:
        return [node]
    if not isinstance(node, dict) or path[0] not in node:
        return []
    return _values(node[path[0]], path[1:])


def check_bindings(resource: dict[str, Any]) -> None:
    for (resource_type, path), allowed in REQUIRED_BINDINGS.items():
        if resource["resourceType"] != resource_type:
            continue
        for value in _values(resource, path.split(".")):
            if value not in allowed:
                raise InvalidResource(f"{resource_type}.{path}: {value!r} is not in its value set")
    for contained in resource.get("contained", []):
        check_bindings(contained)


def validate_bundle(bundle: dict[str, Any]) -> Any:
    """Parse the Bundle, then each entry's resource on its own, with the R4 models, and check
    the required bindings; raises (a ValueError: pydantic's ValidationError or InvalidResource)
    on the first invalid element. Returns the parsed Bundle."""
    parsed = construct_fhir_element("Bundle", bundle)
    check_bindings(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        construct_fhir_element(resource["resourceType"], resource)
        check_bindings(resource)
        assert entry["fullUrl"].endswith(f"/{resource['resourceType']}/{resource['id']}")
    return parsed


def resources_of(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def by_id(bundle: dict[str, Any], resource_type: str, resource_id: str) -> dict[str, Any]:
    (found,) = [r for r in resources_of(bundle, resource_type) if r["id"] == resource_id]
    return found
