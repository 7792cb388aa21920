"""Requesting exports: one signed record (its author's clinic, an export role) or a clinic
admin's bulk export; access is checked and the request audited in the transaction that creates
the job, and the job is sent to the workers once it commits. The resume sweep re-sends the jobs
the broker forgot."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import Role, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from sessions.models import CrisisSession, ExportJob
from sessions.models.exports import ExportFormat, ExportKind, ExportStatus
from sessions.models.notes import NoteStatus
from sessions.policies import can_export_note, export_note_q
from sessions.risk import governing_risk_q
from sessions.services.exports.dispatch import export_run_now, export_run_on_commit
from sessions.services.exports.record import ExportError

# A queued or running job untouched for this long lost its message (Redis restart, or its
# worker died after a duplicate delivery was acknowledged): the sweep enqueues it again.
STALE_AFTER = timedelta(minutes=3)


@transaction.atomic
def export_single_request(
    *, actor: User, note: CrisisSession, request: HttpRequest | None = None
) -> ExportJob:
    """Queue the PDF of one signed note of the actor's clinic. Audited as an export."""
    if not can_export_note(user=actor, note=note):
        raise ExportError(
            _("Only signed records can be exported; drafts never are.")
            if note.clinic_id == actor.clinic_id and note.status != NoteStatus.SIGNED
            else _("You cannot export this record.")
        )
    job = ExportJob.objects.create(
        clinic_id=note.clinic_id,
        requested_by=actor,
        kind=ExportKind.SINGLE,
        scope={"session_id": note.pk},
        record_ids=[note.pk],
        progress_total=1,
    )
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        request=request,
        obj=note,
        summary=f"Requested PDF export {job.pk} of this record",
    )
    export_run_on_commit(job.pk)
    return job


@transaction.atomic
def export_bulk_request(
    *,
    actor: User,
    date_from: date | None = None,
    date_to: date | None = None,
    counselor: User | None = None,
    client_id: int | None = None,
    risk_level: str = "",
    export_format: str = ExportFormat.PDF,
    request: HttpRequest | None = None,
) -> ExportJob:
    """Queue a ZIP of every signed record of the clinic that matches the filters (clinic admins
    only), as PDFs or as FHIR R4 NDJSON (`export_format`). The matching records are fixed now,
    so a re-run exports the same set. Audited once for the job and once per record (one bulk
    INSERT), in this transaction."""
    clinic = actor.clinic
    if not actor.has_role(Role.CLINIC_ADMIN) or clinic is None:
        raise ExportError(_("Only clinic admins can export records in bulk."))
    notes = CrisisSession.objects.filter(export_note_q(user=actor))
    scope: dict[str, Any] = {}
    if date_from:
        notes = notes.filter(started_at__date__gte=date_from)
        scope["date_from"] = date_from.isoformat()
    if date_to:
        notes = notes.filter(started_at__date__lte=date_to)
        scope["date_to"] = date_to.isoformat()
    if counselor is not None:
        if counselor.clinic_id != clinic.pk:
            raise ExportError(_("That counselor is not in your clinic."))
        notes = notes.filter(author=counselor)
        scope["counselor_id"] = counselor.pk
    if client_id is not None:
        notes = notes.filter(client_id=client_id)
        scope["client_id"] = client_id
    if risk_level:
        notes = notes.filter(governing_risk_q(risk_level))
        scope["risk_level"] = risk_level
    pairs = list(notes.order_by("started_at", "id").values_list("pk", "client_id"))
    ids = [session_id for session_id, _ in pairs]
    if not ids:
        raise ExportError(_("No signed records match these filters; nothing to export."))
    if export_format not in ExportFormat.values:
        raise ExportError(_("Unknown export format."))
    job = ExportJob.objects.create(
        clinic=clinic,
        requested_by=actor,
        kind=ExportKind.BULK,
        format=export_format,
        scope=scope,
        record_ids=ids,
        progress_total=len(ids),
    )
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        request=request,
        obj=job,
        summary=f"Requested bulk export {job.pk} of {len(ids)} records ({job.format})",
    )
    # One row per record as well, naming its client: a record's own audit trail and the client's
    # access report must show every export that included it, not only a job number.
    audit_record_for_clients(
        action=Action.EXPORT,
        actor=actor,
        clinic=clinic,
        request=request,
        object_type=CrisisSession._meta.label_lower,
        object_ids=ids,
        client_ids=[client_id for _, client_id in pairs],
        summary=f"Included in bulk export {job.pk}",
    )
    export_run_on_commit(job.pk)
    return job


def export_jobs_resume(*, now: datetime | None = None) -> int:
    """Send again, at once, every unfinished job nobody has touched for STALE_AFTER (the
    database, not the broker, remembers what is still to do) and mark it touched, so the next
    sweep leaves it alone for STALE_AFTER. Returns how many were sent; a job the broker refused
    is not marked and is tried by the next sweep. Running it twice is harmless (the job run is
    idempotent and a second delivery of a running job joins its chunks)."""
    now = now or timezone.now()
    stale = ExportJob.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING], updated_at__lt=now - STALE_AFTER
    )
    count = 0
    for job_id in stale.values_list("pk", flat=True):
        if export_run_now(job_id):
            ExportJob.objects.filter(pk=job_id).update(updated_at=now)
            count += 1
    return count
