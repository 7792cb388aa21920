"""FHIR R4 (4.0.1) representation of a signed session record, as plain JSON-able dicts.

`note_fhir_bundle()` is a pure function of the stored rows: it reads the note, its stage rows,
follow-ups and whatever the registered sections contribute (`NoteSection.fhir_resources`: the
safety app adds the C-SSRS QuestionnaireResponse, the RiskAssessments, the safety plan CarePlan
and the disclosures), and writes nothing. Access checks and the audit belong to the caller
(sessions/services/fhir.py). docs/fhir.md is the mapping table; tests validate every resource
with the `fhir.resources` R4 models.

Resource ids are stable (derived from primary keys), so the same client or safety-plan version
exported with two sessions is the same resource, and a bulk export can de-duplicate it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import translation

from crisisnotes.errors import DomainError
from sessions import registry
from sessions.models import CrisisSession, FollowUpAttempt, FollowUpTask
from sessions.models.notes import Modality, NoteStatus

# Language names in FHIR are in English, whatever the interface language of the request.
LANGUAGE_NAMES = (("en", "English"), ("es", "Spanish"))

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

# Local code systems and identifier namespaces. URNs rather than URLs: nothing is served there,
# and a URN does not pretend otherwise (docs/fhir.md lists each and its codes).
CODE_SYSTEM = "urn:crisisnotes:codesystem:"
ID_SYSTEM = "urn:crisisnotes:id:"
EXTENSION = "urn:crisisnotes:fhir:extension:"

LOINC = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")
VERIFICATION_SIGNATURE = ("1.2.840.10065.1.12.1.5", "Verification Signature")

# Encounter.class (v3-ActCode) per modality: remote contacts are virtual encounters.
ENCOUNTER_CLASS: dict[str, tuple[str, str]] = {
    Modality.PHONE: ("VR", "virtual"),
    Modality.TEXT: ("VR", "virtual"),
    Modality.CHAT: ("VR", "virtual"),
    Modality.VIDEO: ("VR", "virtual"),
    Modality.IN_PERSON: ("AMB", "ambulatory"),
    Modality.MOBILE: ("FLD", "field"),
}
# Encounter.type: one CodeableConcept per coded field of the note that says what kind of contact
# it was, (field, local code system). A field the note does not have (yet) is skipped, so a new
# coded field is mapped by adding one line here.
ENCOUNTER_TYPE_FIELDS: tuple[tuple[str, str], ...] = (
    ("modality", "modality"),
    ("contact_type", "contact-type"),
)


# --- small builders, shared with the sections' mappings -----------------------------------


def fhir_instant(value: datetime | None) -> str | None:
    """An aware datetime as a FHIR instant/dateTime in UTC; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def local_coding(code_system: str, code: str, display: str = "") -> dict[str, str]:
    return coding(CODE_SYSTEM + code_system, code, display)


def concept(*codings: dict[str, str], text: str = "") -> dict[str, Any]:
    result: dict[str, Any] = {}
    if codings:
        result["coding"] = list(codings)
    if text:
        result["text"] = text
    return result


def identifier(kind: str, value: Any) -> dict[str, str]:
    return {"system": ID_SYSTEM + kind, "value": str(value)}


def annotation(text: str) -> dict[str, str]:
    return {"text": text}


def compact(resource: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (FHIR forbids empty strings, lists and objects), recursively."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            cleaned = {k: clean(v) for k, v in value.items()}
            return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
        if isinstance(value, list):
            items = [clean(v) for v in value]
            return [v for v in items if v not in (None, "", [], {})]
        if isinstance(value, str):
            return value.strip()
        return value

    return clean(resource)


def reference(resource: dict[str, Any], display: str = "") -> dict[str, str]:
    result = {"reference": f"{resource['resourceType']}/{resource['id']}"}
    if display:
        result["display"] = display
    return result


# --- references handed to the sections ------------------------------------------------------


@dataclass
class FhirRefs:
    """References of the resources every section may point at. `user()` refers to the signer's
    or co-signer's Practitioner when the user is one of them (their qualification is the snapshot
    on the note); anyone else is a logical reference (identifier and name), never a Practitioner
    made up from today's user row."""

    note: CrisisSession
    patient: dict[str, str]
    encounter: dict[str, str]
    organization: dict[str, str]
    signer: dict[str, str] | None = None
    cosigner: dict[str, str] | None = None
    _by_user: dict[int, dict[str, str]] = field(default_factory=dict)

    def user(self, user_id: int | None, name: str = "") -> dict[str, str] | None:
        if user_id is None:
            return None
        if user_id in self._by_user:
            return dict(self._by_user[user_id])
        result: dict[str, Any] = {"identifier": identifier("user", user_id)}
        if name:
            result["display"] = name
        return result


# --- the core resources -------------------------------------------------------------------


def _organization(note: CrisisSession) -> dict[str, Any]:
    clinic = note.clinic
    return compact(
        {
            "resourceType": "Organization",
            "id": f"clinic-{clinic.pk}",
            "identifier": [identifier("clinic", clinic.slug)],
            "active": True,
            "name": clinic.name,
            "telecom": [{"system": "phone", "value": clinic.crisis_line_phone, "use": "work"}]
            if clinic.crisis_line_phone
            else [],
            "address": [{"text": clinic.address}] if clinic.address else [],
        }
    )


def client_is_anonymous(client: Any) -> bool:
    """A client known only by an alias (no name on the record)."""
    return not (client.name or "").strip()


def _patient(note: CrisisSession, organization: dict[str, Any]) -> dict[str, Any]:
    """The client. An anonymous client is pseudonymous: the alias and nothing that identifies."""
    client = note.client
    base: dict[str, Any] = {
        "resourceType": "Patient",
        "id": f"client-{client.pk}",
        "identifier": [identifier("client", client.pk)],
        "managingOrganization": reference(organization, note.clinic.name),
    }
    if client_is_anonymous(client):
        base["name"] = [{"use": "anonymous", "text": client.alias}]
        return compact(base)
    base["name"] = [
        {"use": "official", "text": client.name},
        {"use": "nickname", "text": client.alias},
    ]
    if client.phone:
        base["telecom"] = [{"system": "phone", "value": client.phone}]
    if client.date_of_birth:
        base["birthDate"] = client.date_of_birth.isoformat()
    if client.location:
        base["address"] = [{"text": client.location}]
    if client.language:
        # BCP 47 code (the client's language choice) with its English name as the text.
        base["communication"] = [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": client.language}],
                    "text": dict(LANGUAGE_NAMES).get(client.language, client.language),
                }
            }
        ]
    if client.emergency_contact:
        base["contact"] = [{"name": {"text": client.emergency_contact}}]
    return compact(base)


def _practitioner(user_id: int, name: str, credential: str, licence: str) -> dict[str, Any]:
    """A signer as the note recorded them at signing. The id includes a digest of that snapshot:
    the same person with another credential or licence later is another Practitioner resource,
    so a bulk export never merges two qualifications under one id."""
    snapshot = "\x1f".join((str(user_id), name, credential, licence)).encode()
    digest = hashlib.sha256(snapshot).hexdigest()[:10]
    qualification: dict[str, Any] = {}
    if credential or licence:
        qualification = {
            "code": {"text": credential or "Licence"},
            "identifier": [identifier("licence", licence)] if licence else [],
        }
    return compact(
        {
            "resourceType": "Practitioner",
            "id": f"user-{user_id}-{digest}",
            "identifier": [identifier("user", user_id)],
            "name": [{"text": name}],
            "qualification": [qualification] if qualification else [],
        }
    )


def _encounter(
    note: CrisisSession,
    *,
    patient: dict[str, Any],
    organization: dict[str, Any],
    signer: dict[str, Any] | None,
) -> dict[str, Any]:
    klass, klass_display = ENCOUNTER_CLASS.get(note.modality, ("VR", "virtual"))
    types = []
    for name, code_system in ENCOUNTER_TYPE_FIELDS:
        value = getattr(note, name, "")
        if value:
            display = getattr(note, f"get_{name}_display", lambda v=value: v)()
            types.append(concept(local_coding(code_system, value, display), text=display))
    follow_up = getattr(note, "follow_up", None)
    exploration = getattr(note, "exploration", None)
    hospitalization: dict[str, Any] = {}
    if follow_up is not None and follow_up.disposition:
        hospitalization = {
            "dischargeDisposition": concept(
                local_coding(
                    "disposition", follow_up.disposition, follow_up.get_disposition_display()
                ),
                text=follow_up.disposition_other or follow_up.get_disposition_display(),
            )
        }
    return compact(
        {
            "resourceType": "Encounter",
            "id": f"session-{note.pk}",
            "identifier": [identifier("session", note.pk)],
            "status": "finished",
            "class": coding(ACT_CODE, klass, klass_display),
            "type": types,
            "subject": reference(patient, note.client.alias),
            "participant": [
                {
                    "type": [concept(coding(PARTICIPATION_TYPE, "PPRF", "primary performer"))],
                    "individual": reference(signer, note.signer_name),
                }
            ]
            if signer
            else [],
            "period": {
                "start": fhir_instant(note.started_at),
                "end": fhir_instant(note.ended_at),
            },
            "reasonCode": [{"text": exploration.precipitating_event}]
            if exploration is not None and exploration.precipitating_event
            else [],
            "hospitalization": hospitalization,
            "serviceProvider": reference(organization, note.clinic.name),
        }
    )


TASK_OUTCOME_SYSTEM = "followup-outcome"


def _task_status(task: FollowUpTask, attempts: list[FollowUpAttempt]) -> str:
    if task.closed_at is not None:
        return "completed"
    return "in-progress" if attempts else "ready"


def _task(task: FollowUpTask, attempts: list[FollowUpAttempt], refs: FhirRefs) -> dict[str, Any]:
    """A follow-up task as it stands now (status, outcome and attempts change after signing;
    the signature covers the plan as it stood: due time, method, assignee)."""
    outcome = (
        concept(
            local_coding(TASK_OUTCOME_SYSTEM, task.outcome, task.get_outcome_display()),
            text=task.get_outcome_display(),
        )
        if task.outcome
        else {}
    )
    notes = [
        annotation(
            f"Attempt {fhir_instant(a.attempted_at)} by {a.get_method_display().lower()}: "
            f"{a.get_outcome_display()}" + (f" — {a.notes}" if a.notes else "")
        )
        for a in attempts
    ]
    if task.outcome_notes:
        notes.append(annotation(task.outcome_notes))
    return compact(
        {
            "resourceType": "Task",
            "id": f"followup-{task.pk}",
            "identifier": [identifier("followup", task.pk)],
            "status": _task_status(task, attempts),
            "businessStatus": outcome,
            "intent": "plan",
            "code": concept(
                local_coding("followup-method", task.method, task.get_method_display()),
                text=f"Follow-up {task.get_method_display().lower()}",
            ),
            "description": task.purpose,
            "for": dict(refs.patient),
            "encounter": dict(refs.encounter),
            "authoredOn": fhir_instant(task.created_at),
            "lastModified": fhir_instant(
                max([task.created_at, *(a.attempted_at for a in attempts)])
                if task.closed_at is None
                else task.closed_at
            ),
            "requester": refs.user(task.created_by_id),
            "owner": refs.user(task.assigned_to_id, task.assigned_to.display_name),
            "executionPeriod": {"end": fhir_instant(task.closed_at)} if task.closed_at else {},
            "restriction": {"period": {"end": fhir_instant(task.due_at)}},
            "note": notes,
            "output": [{"type": {"text": "Outcome"}, "valueCodeableConcept": outcome}]
            if outcome
            else [],
        }
    )


def _signature(
    kind: tuple[str, str], when: datetime | None, who: dict[str, str], digest: str
) -> dict[str, Any]:
    # base64Binary: the hex digest's ASCII, so a reader decodes exactly the string the PDF prints.
    return {
        "type": [coding(SIGNATURE_TYPE, kind[0], kind[1])],
        "when": fhir_instant(when),
        "who": who,
        "targetFormat": "application/json",
        "data": base64.b64encode(digest.encode("ascii")).decode("ascii"),
    }


def _provenance(
    note: CrisisSession, refs: FhirRefs, targets: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """The signature: who signed and co-signed, when, and the content hash the PDF prints."""
    assert refs.signer is not None
    agents = [
        {
            "type": concept(coding(PROVENANCE_AGENT, "author", "Author")),
            "who": dict(refs.signer),
        }
    ]
    signatures = [_signature(AUTHOR_SIGNATURE, note.signed_at, refs.signer, note.content_hash)]
    if refs.cosigner is not None:
        agents.append(
            {
                "type": concept(coding(PROVENANCE_AGENT, "verifier", "Verifier")),
                "who": dict(refs.cosigner),
            }
        )
        signatures.append(
            _signature(
                VERIFICATION_SIGNATURE,
                note.cosigned_at,
                refs.cosigner,
                note.cosign_hash or note.content_hash,
            )
        )
    reasons = []
    if note.late_entry:
        reasons.append({"text": "Late entry"})
    if note.cosign_required_reason:
        reasons.append({"text": f"Co-signature required: {note.cosign_required_reason}"})
    return compact(
        {
            "resourceType": "Provenance",
            "id": f"session-{note.pk}-signature",
            "target": [reference(t) for t in targets],
            "occurredDateTime": fhir_instant(note.ended_at),
            "recorded": fhir_instant(note.cosigned_at or note.signed_at),
            "reason": reasons,
            "agent": agents,
            "entity": [
                {
                    "role": "source",
                    "what": {
                        "identifier": {
                            "system": ID_SYSTEM + "content-hash-sha256",
                            "value": note.content_hash,
                        },
                        "display": "SHA-256 of the signed content (docs/record-hash.md)",
                    },
                }
            ],
            "signature": signatures,
        }
    )


class FhirExportError(DomainError):
    """The record cannot be represented (it is not signed)."""


# Machine output: the displays and texts are the code systems' English labels, whatever
# language the requester's interface is in (a receiving system must not see them change).
@translation.override("en")
def note_fhir_resources(note: CrisisSession) -> list[dict[str, Any]]:
    """Every resource of the signed record, in Bundle order: Organization, Patient,
    Practitioner(s), Encounter, the sections' resources, the follow-up Tasks, Provenance."""
    if note.status != NoteStatus.SIGNED or note.signed_at is None:
        raise FhirExportError("Only signed records are exported; drafts never are.")
    organization = _organization(note)
    patient = _patient(note, organization)
    practitioners = []
    by_user: dict[int, dict[str, str]] = {}
    signer = None
    if note.signed_by_id is not None:
        signer = _practitioner(
            note.signed_by_id, note.signer_name, note.signer_credential, note.signer_licence
        )
        practitioners.append(signer)
        by_user[note.signed_by_id] = reference(signer, note.signer_name)
    cosigner = None
    if note.cosigned_by_id is not None and note.cosigned_at is not None:
        cosigner = _practitioner(
            note.cosigned_by_id,
            note.cosigner_name,
            note.cosigner_credential,
            note.cosigner_licence,
        )
        if cosigner["id"] != (signer or {}).get("id"):
            practitioners.append(cosigner)
        by_user.setdefault(note.cosigned_by_id, reference(cosigner, note.cosigner_name))
    encounter = _encounter(note, patient=patient, organization=organization, signer=signer)
    refs = FhirRefs(
        note=note,
        patient=reference(patient, note.client.alias),
        encounter=reference(encounter),
        organization=reference(organization, note.clinic.name),
        signer=reference(signer, note.signer_name) if signer else None,
        cosigner=reference(cosigner, note.cosigner_name) if cosigner else None,
        _by_user=by_user,
    )
    recorded: list[dict[str, Any]] = [encounter]
    for section in registry.sections():
        recorded.extend(section.fhir_resources(note=note, refs=refs))
    tasks = list(
        FollowUpTask.objects.filter(session=note)
        .select_related("assigned_to")
        .order_by("due_at", "id")
    )
    attempts: dict[int, list[FollowUpAttempt]] = {}
    for attempt in FollowUpAttempt.objects.filter(task__session=note).order_by(
        "attempted_at", "id"
    ):
        attempts.setdefault(attempt.task_id, []).append(attempt)
    task_resources = [_task(t, attempts.get(t.pk, []), refs) for t in tasks]
    provenance = _provenance(note, refs, recorded) if signer else None
    return [
        organization,
        patient,
        *practitioners,
        *recorded,
        *task_resources,
        *([provenance] if provenance else []),
    ]


def note_fhir_bundle(
    *, note: CrisisSession, base_url: str, generated_at: datetime
) -> dict[str, Any]:
    """The signed record as a FHIR R4 `collection` Bundle (docs/fhir.md says why not
    `document`). `base_url` is the FHIR base the entries' fullUrls are under; references inside
    the resources are relative (`Patient/client-7`) and resolve against it."""
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "id": f"session-{note.pk}",
        "meta": {"lastUpdated": fhir_instant(generated_at)},
        "identifier": identifier("session-record", note.pk),
        "type": "collection",
        "timestamp": fhir_instant(generated_at),
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in note_fhir_resources(note)
        ],
    }
