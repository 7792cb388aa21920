"""Every write of the safety app. Each service runs in one transaction with its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.accounts.selectors import supervisor_for
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.notifications.services import notification_send
from safety.exceptions import NoSupervisor, NoteNotEditable, NotYourNotification
from safety.models import (
    Disclosure,
    NotifyMethod,
    PlanStep,
    RiskFormulation,
    SafetyPlanVersion,
    SafetyScreen,
    SupervisorNotification,
)
from sessions.models import Client, ConsultReply, CrisisSession
from sessions.models.notes import NoteStatus

PLAN_FIELDS = ("worth_living_for", "likelihood_of_use", "barriers", "copy_kept_where", "copy_given")


def note_risk_refresh(
    *, note: CrisisSession, screen: SafetyScreen, formulation: RiskFormulation
) -> bool:
    """Copy the screen's computed risk and the clinician's level onto the note, so queues and
    dashboards read one row. Call inside the transaction that saved the stage; returns whether
    the note changed (the caller saves the note, bumping its version)."""
    new = {
        "screen_risk": screen.risk,
        "clinician_risk": formulation.clinician_level,
        "imminent": formulation.imminent,
    }
    changed = any(getattr(note, name) != value for name, value in new.items())
    for name, value in new.items():
        setattr(note, name, value)
    if changed:
        note.save(update_fields=[*new, "updated_at"])
    return changed


def _require_draft(note: CrisisSession) -> CrisisSession:
    """Lock the note row and check it is still a draft. The lock serialises these writes with
    signing (note_sign locks the same row), so nothing is added to a note being signed."""
    locked = CrisisSession.objects.select_for_update().get(pk=note.pk)
    if locked.status != NoteStatus.DRAFT:
        raise NoteNotEditable("This note is signed: add an addendum instead.")
    return locked


@transaction.atomic
def supervisor_notify(
    *, actor: User, note: CrisisSession, request: HttpRequest | None = None
) -> SupervisorNotification:
    """One click during a high-risk session: record that the author's team supervisor was
    notified now, in the app, and send them a notification linking to the page where they record
    their response. The record's response stays empty until they do."""
    locked = _require_draft(note)
    supervisor = supervisor_for(user=actor)
    if supervisor is None:
        raise NoSupervisor(
            "Your team has no active supervisor in crisisnotes: call your on-call supervisor and "
            "record the notification below."
        )
    record = SupervisorNotification.objects.create(
        session=note,
        supervisor=supervisor,
        supervisor_name=supervisor.signature_line,
        notified_at=timezone.now(),
        method=NotifyMethod.IN_APP,
        created_by=actor,
    )
    if locked.consult_requested_at is None:
        # The live board and the supervision read rule read the request on the note row.
        locked.consult_requested_at = record.notified_at
        locked.save(update_fields=["consult_requested_at"])
    count = SupervisorNotification.objects.filter(session=note).count()
    notification_send(
        recipient=supervisor,
        event_key=f"safety:notify:{note.pk}:{count}",
        kind="safety_notify",
        # No client name: the message may be e-mailed, and e-mail leaves the clinic's systems.
        message=f"{actor.display_name} asks you to consult on a high-risk session now.",
        url=reverse("safety:supervisor_ack", args=[record.pk]),
    )
    audit_record(
        action=Action.NOTIFY,
        actor=actor,
        request=request,
        obj=note,
        summary=f"Supervisor {supervisor.display_name} notified of a high-risk session",
    )
    return record


@transaction.atomic
def supervisor_notification_record(
    *,
    actor: User,
    note: CrisisSession,
    supervisor: User,
    method: str,
    notified_at: datetime,
    response: str,
    request: HttpRequest | None = None,
) -> SupervisorNotification:
    """A notification made outside the app (phone, in person), recorded with the response."""
    _require_draft(note)
    record = SupervisorNotification.objects.create(
        session=note,
        supervisor=supervisor,
        supervisor_name=supervisor.signature_line,
        notified_at=notified_at,
        method=method,
        response=response.strip(),
        responded_at=timezone.now(),
        created_by=actor,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,
        obj=note,
        summary=f"Recorded supervisor notification ({record.get_method_display()})",
    )
    return record


@transaction.atomic
def supervisor_acknowledge(
    *,
    actor: User,
    record: SupervisorNotification,
    response: str,
    request: HttpRequest | None = None,
) -> SupervisorNotification:
    """The notified supervisor records their response; it fills the note's record. The note
    must still be a draft (a signed note's records are frozen, also by the database)."""
    if record.supervisor_id != actor.pk:
        raise NotYourNotification("This notification was sent to another supervisor.")
    note = _require_draft(record.session)
    record = SupervisorNotification.objects.select_for_update().get(pk=record.pk)
    record.response = response.strip()
    record.responded_at = timezone.now()
    record.save(update_fields=["response", "responded_at"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,
        obj=note,
        summary="Supervisor recorded their response to a high-risk notification",
    )
    notification_send(
        recipient=note.author,
        event_key=f"safety:ack:{record.pk}",
        kind="safety_ack",
        message=f"{actor.display_name} responded to your consultation request.",
        url=reverse("crisis_sessions:note_detail", args=[note.pk]),
        email=False,
    )
    return record


EMERGENCY_DEPARTMENT = "Nearest emergency department"


def plan_default_steps(*, client: Client) -> dict[str, list[Any]]:
    """A new plan's steps: step 5 pre-filled with 988, the clinic's own crisis line and a line for
    the local emergency department (CLINICAL.md §7). The clinic records no emergency department,
    so that line is a named placeholder with no phone, for the counselor to complete."""
    professionals = [{"name": "988 Suicide & Crisis Lifeline (call or text)", "phone": "988"}]
    clinic = client.clinic
    if clinic.crisis_line_phone:
        professionals.append(
            {"name": clinic.crisis_line_name or clinic.name, "phone": clinic.crisis_line_phone}
        )
    professionals.append({"name": EMERGENCY_DEPARTMENT, "phone": ""})
    steps: dict[str, list[Any]] = {step.value: [] for step in PlanStep}
    steps[PlanStep.PROFESSIONALS] = professionals
    return steps


@transaction.atomic
def safety_plan_save(
    *,
    actor: User,
    client: Client,
    steps: dict[str, list[Any]],
    fields: dict[str, Any],
    session: CrisisSession | None = None,
    request: HttpRequest | None = None,
) -> tuple[SafetyPlanVersion, bool]:
    """Save the client's plan as a new version (number n+1) if anything differs from version n;
    versions are never updated (a trigger refuses). Returns (the version in force, created?)."""
    # Lock the client row: two counselors saving at once must not both create version n+1.
    Client.objects.select_for_update().filter(pk=client.pk).first()
    # The pre-filled emergency-department line is a prompt, not a contact: left without a
    # number it would print on the client's copy as a line they cannot call.
    steps = {
        key: [
            entry
            for entry in entries
            if not (
                key == PlanStep.PROFESSIONALS
                and isinstance(entry, dict)
                and entry.get("name") == EMERGENCY_DEPARTMENT
                and not (entry.get("phone") or "").strip()
            )
        ]
        for key, entries in steps.items()
    }
    current = SafetyPlanVersion.objects.filter(client=client).order_by("-number").first()
    values = {name: fields.get(name) for name in PLAN_FIELDS}
    values["copy_given"] = bool(values["copy_given"])
    for name in ("worth_living_for", "barriers", "copy_kept_where"):
        values[name] = (values[name] or "").strip()
    if (
        current is not None
        and current.steps == steps
        and all(getattr(current, name) == value for name, value in values.items())
    ):
        return current, False
    version = SafetyPlanVersion.objects.create(
        clinic_id=client.clinic_id,
        client=client,
        number=(current.number + 1) if current else 1,
        session=session,
        steps=steps,
        created_by=actor,
        **values,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,
        obj=version,
        summary=f"Safety plan version {version.number}"
        + (f" in session {session.pk}" if session else ""),
    )
    return version, True


@transaction.atomic
def disclosure_create(
    *,
    actor: User,
    note: CrisisSession,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> Disclosure:
    """Add a row to the client's accounting of disclosures, from inside the session."""
    _require_draft(note)
    disclosure = Disclosure.objects.create(
        clinic_id=note.clinic_id,
        client_id=note.client_id,
        session=note,
        created_by=actor,
        **data,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,
        obj=disclosure,
        summary=f"Disclosure: {disclosure.get_type_display()} to {disclosure.recipient}",
    )
    return disclosure


def plan_diff(older: SafetyPlanVersion, newer: SafetyPlanVersion) -> list[dict[str, Any]]:
    """What changed between two versions, per step and field: [{label, removed, added}]."""
    from safety.models import CONTACT_STEPS

    def show(step: str, entry: Any) -> str:
        if step in CONTACT_STEPS:
            return " – ".join(p for p in (entry.get("name", ""), entry.get("phone", "")) if p)
        return str(entry)

    changes = []
    for step in PlanStep:
        old = [show(step, e) for e in older.entries(step)]
        new = [show(step, e) for e in newer.entries(step)]
        removed = [e for e in old if e not in new]
        added = [e for e in new if e not in old]
        if removed or added:
            changes.append({"label": step.label, "removed": removed, "added": added})
    for name in PLAN_FIELDS:
        before, after = getattr(older, name), getattr(newer, name)
        if before != after:
            label = str(SafetyPlanVersion._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
            changes.append(
                {
                    "label": label[:1].upper() + label[1:],
                    "removed": [_show_value(before)],
                    "added": [_show_value(after)],
                }
            )
    return changes


def _show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return "—" if value in (None, "") else str(value)


def supervisor_notification_answer(reply: ConsultReply) -> None:
    """A supervisor's consult reply on the live board answers their pending in-app notifications
    of that session (registered as a sessions consult-reply hook, so it runs in the reply's
    transaction): the record's response is the reply, so sign rule 6 sees the supervisor's
    response without their typing it twice."""
    now = timezone.now()
    pending = SupervisorNotification.objects.select_for_update().filter(
        session_id=reply.session_id, supervisor_id=reply.author_id, method=NotifyMethod.IN_APP
    )
    for record in pending.filter(responded_at__isnull=True):
        record.response = reply.text
        record.responded_at = now
        record.save(update_fields=["response", "responded_at"])
