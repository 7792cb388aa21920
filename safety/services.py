"""Every write of the safety app. Each service runs in one transaction with its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.selectors import supervisor_for
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from crisisnotes.notifications.services import notification_send
from crisisnotes.notifications.texts import recipient_language
from safety.exceptions import NoSupervisor, NoteNotEditable, NotYourNotification, SafetyError
from safety.models import (
    Disclosure,
    NotifyMethod,
    PlanStep,
    RiskFormulation,
    SafetyPlanVersion,
    SafetyScreen,
    SupervisorNotification,
)
from sessions.models import Client, ConsultReply, CrisisSession, ExportJob
from sessions.models.exports import ExportStatus
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
        raise NoteNotEditable(gettext("This note is signed: add an addendum instead."))
    return locked


def _for(recipient: User, message: Any, **params: str) -> str:
    """A notification's text in its recipient's language (it is stored once, read by them)."""
    with translation.override(recipient_language(recipient.language)):
        return str(message) % params


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
            gettext(
                "Your team has no active supervisor in crisisnotes: call your on-call supervisor "
                "and record the notification below."
            )
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
        # In the supervisor's language: the message is stored as they will read it.
        message=_for(
            supervisor,
            gettext_lazy("%(name)s asks you to consult on a high-risk session now."),
            name=actor.display_name,
        ),
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
        raise NotYourNotification(gettext("This notification was sent to another supervisor."))
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
        message=_for(
            note.author,
            gettext_lazy("%(name)s responded to your consultation request."),
            name=actor.display_name,
        ),
        url=reverse("crisis_sessions:note_detail", args=[note.pk]),
        email=False,
    )
    return record


EMERGENCY_DEPARTMENT = gettext_lazy("Nearest emergency department")


def _emergency_department_names() -> set[str]:
    """The placeholder's name in every language (it is written in the client's)."""
    names = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(str(EMERGENCY_DEPARTMENT))
    return names


def plan_default_steps(*, client: Client) -> dict[str, list[Any]]:
    """A new plan's steps: step 5 pre-filled with the clinic's crisis lines (988 unless the
    clinic changed it), the clinic's own crisis line and a line for the local emergency
    department (CLINICAL.md §7). The clinic records no emergency department, so that line is a
    named placeholder with no phone, for the counselor to complete; it is written in the
    client's language, as it ends up on the client's copy."""
    clinic = client.clinic
    professionals = [dict(line) for line in clinic.crisis_lines]
    if clinic.crisis_line_phone:
        professionals.append(
            {"name": clinic.crisis_line_name or clinic.name, "phone": clinic.crisis_line_phone}
        )
    with translation.override(client.language):
        professionals.append({"name": str(EMERGENCY_DEPARTMENT), "phone": ""})
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
    versions are never updated (a trigger refuses). Returns (the version in force, created?).

    Saved in a session (the note's plan panel, or the editor opened from the note), the note
    must still be a draft: its row is locked after the client's — the order `note_sign` takes
    them — so a plan saved while the note is signed either lands before the signature reads
    (and is the plan in force, hashed) or is refused (NoteNotEditable) after it."""
    # Lock the client row: two counselors saving at once must not both create version n+1.
    Client.objects.select_for_update().filter(pk=client.pk).first()
    if session is not None:
        session = _require_draft(session)
    # The pre-filled emergency-department line is a prompt, not a contact: left without a
    # number it would print on the client's copy as a line they cannot call.
    placeholders = _emergency_department_names()
    steps = {
        key: [
            entry
            for entry in entries
            if not (
                key == PlanStep.PROFESSIONALS
                and isinstance(entry, dict)
                and entry.get("name") in placeholders
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


def _may_record_disclosure(actor: User, session: CrisisSession | None) -> bool:
    """The session's author, a supervisor or a clinic admin (who keeps the clinic's records)."""
    if actor.has_role(Role.SUPERVISOR) or actor.has_role(Role.CLINIC_ADMIN):
        return True
    return session is not None and session.author_id == actor.pk


@transaction.atomic
def disclosure_record(
    *,
    actor: User,
    client: Client,
    data: dict[str, Any],
    session: CrisisSession | None = None,
    request: HttpRequest | None = None,
) -> Disclosure:
    """Add a row to a client's accounting of disclosures at any time: after the note was signed
    (signing freezes the note, not the accounting) or with no session at all (a subpoena that
    arrives months later). Only the session's author, a supervisor or a clinic admin of the
    client's clinic may; the row is never changed afterwards (database trigger)."""
    if client.clinic_id != actor.clinic_id:
        raise SafetyError(gettext("This client is not in your clinic."))
    if session is not None and (session.client_id != client.pk):
        raise SafetyError(gettext("That session is not one of this client's."))
    if not _may_record_disclosure(actor, session):
        raise SafetyError(
            gettext(
                "Only the session's author, a supervisor or a clinic admin can record a disclosure."
            )
        )
    # Never `session`: that would add the row to a signed note's content (and hash). A later
    # disclosure only names the session it concerns.
    disclosure = Disclosure.objects.create(
        clinic_id=client.clinic_id,
        client=client,
        regarding_session=session,
        created_by=actor,
        **data,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,
        obj=disclosure,
        summary=f"Disclosure: {disclosure.get_type_display()} to {disclosure.recipient}"
        + (f" (session {session.pk})" if session else " (outside a session)"),
    )
    return disclosure


@transaction.atomic
def disclosure_record_for_export(
    *, actor: User, job: ExportJob, data: dict[str, Any], request: HttpRequest | None = None
) -> list[Disclosure]:
    """A finished export sent outside the clinic is a disclosure of every client it holds: one
    accounting row per client, naming the sessions of theirs it contained. Clinic admins only;
    recorded once per export (a unique constraint backs the check against a double click)."""
    if not actor.has_role(Role.CLINIC_ADMIN) or job.clinic_id != actor.clinic_id:
        raise SafetyError(gettext("Only a clinic admin of the export's clinic can record this."))
    locked = ExportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ExportStatus.DONE:
        raise SafetyError(gettext("Only a finished export can have been sent."))
    if Disclosure.objects.filter(export_job=locked).exists():
        raise SafetyError(gettext("This export is already recorded as a disclosure."))
    sessions_of: dict[int, list[int]] = {}
    records = CrisisSession.objects.filter(pk__in=locked.record_ids, clinic_id=locked.clinic_id)
    for session_id, client_id in records.order_by("started_at", "pk").values_list(
        "pk", "client_id"
    ):
        sessions_of.setdefault(client_id, []).append(session_id)
    failed = {row.get("session_id") for row in locked.failures}
    described = data.get("information_disclosed", "").strip()
    rows = []
    for client_id, session_ids in sessions_of.items():
        sent = [pk for pk in session_ids if pk not in failed]
        if not sent:
            continue
        listing = ", ".join(f"#{pk}" for pk in sent)
        rows.append(
            Disclosure(
                clinic_id=locked.clinic_id,
                client_id=client_id,
                export_job=locked,
                created_by=actor,
                **{
                    **data,
                    "information_disclosed": (f"{described}\n" if described else "")
                    + f"Session records {listing} (PDF export {locked.pk}).",
                },
            )
        )
    created = Disclosure.objects.bulk_create(rows)
    audit_record_for_clients(
        action=Action.CREATE,
        actor=actor,
        clinic=actor.clinic,  # type: ignore[arg-type]
        request=request,
        object_type=Disclosure._meta.label_lower,
        object_ids=[d.pk for d in created],
        client_ids=[d.client_id for d in created],
        summary=f"Disclosure: export {locked.pk} sent to {data.get('recipient', '')}",
    )
    return created


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
    of that session (the Safety section's `consult_reply_saved`, so it runs in the reply's
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
