"""Record verification: recompute the hashes of signed notes from what is stored and compare.

A signed note carries its content hash (computed by `note_sign` on the content under the row
lock) and, once co-signed, a co-sign hash over that content hash and the co-signer. Recomputing
both from the stored rows shows whether the record is still exactly what was signed. The note
page and the PDF show the result for one note (`note_verify`); `manage.py verify_records` and the
periodic task check every signed note (`records_verify`), and the task tells the clinic's admins
of each mismatch once (`record_mismatches_notify`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.notifications.services import notification_send
from sessions.hashing import HashCheck, RecordVerification, note_verify
from sessions.i18n import recipient_language
from sessions.models import CrisisSession, RecordIntegrityAlert
from sessions.models.integrity import RecordCheckKind
from sessions.models.notes import NoteStatus
from sessions.services.notes import section_relations

logger = logging.getLogger(__name__)


def _signed_notes(clinic_id: int | None) -> Iterator[CrisisSession]:
    notes = CrisisSession.objects.exclude(status=NoteStatus.DRAFT)
    if clinic_id is not None:
        notes = notes.filter(clinic_id=clinic_id)
    # Signed rows never change (database triggers), so reading them in chunks without a lock
    # sees each note whole.
    return notes.select_related(*section_relations()).order_by("id").iterator(chunk_size=200)


@dataclass
class VerifyResult:
    checked: int = 0
    mismatched: list[RecordVerification] = field(default_factory=list)


def records_verify(*, clinic_id: int | None = None) -> VerifyResult:
    """Verify every note that was signed (or only one clinic's): how many were checked and
    which did not verify, in id order."""
    result = VerifyResult()
    for note in _signed_notes(clinic_id):
        verification = note_verify(note=note)
        assert verification is not None
        result.checked += 1
        if not verification.ok:
            result.mismatched.append(verification)
    return result


@dataclass
class NotifyResult:
    checked: int = 0
    mismatches: int = 0
    alerts: int = 0


def record_mismatches_notify(*, now: datetime | None = None) -> NotifyResult:
    """The periodic check: verify every signed note and tell the active clinic admins of the
    note's clinic about each mismatch, once per (note, kind) however often it runs — the
    RecordIntegrityAlert row is inserted in the same transaction as the notifications, and a
    second insert fails the unique constraint and rolls its notifications back."""
    now = now or timezone.now()
    verified = records_verify()
    result = NotifyResult(checked=verified.checked, mismatches=len(verified.mismatched))
    for verification in verified.mismatched:
        for check in verification.mismatches:
            if _alert_send(note_id=verification.note_id, check=check, now=now):
                result.alerts += 1
    if result.mismatches:
        logger.error(
            "Record check: %d of %d signed notes do not verify",
            result.mismatches,
            result.checked,
        )
    return result


def _alert_send(*, note_id: int, check: HashCheck, now: datetime) -> bool:
    if RecordIntegrityAlert.objects.filter(session_id=note_id, kind=check.kind).exists():
        return False  # announced by an earlier run
    try:
        with transaction.atomic():
            note = CrisisSession.objects.select_related("clinic").get(pk=note_id)
            # The insert is the claim: a concurrent run blocks on the unique index until the
            # first commits, then fails, and nobody is told twice.
            RecordIntegrityAlert.objects.create(
                session=note,
                kind=check.kind,
                stored_hash=check.stored[:64],
                computed_hash=check.computed[:64],
                detected_at=now,
            )
            admins = list(
                User.objects.filter(
                    clinic_id=note.clinic_id, is_active=True, is_clinic_admin=True
                ).order_by("id")
            )
            if not admins:
                logger.error("Record check: clinic %s has no active admin to tell", note.clinic_id)
            with translation.override("en"):  # the audit log is in one language
                label = str(RecordCheckKind(check.kind).label).lower()
            for admin in admins:
                # No client name or alias: the message may be e-mailed.
                with recipient_language(admin):
                    message = _(
                        "Record check: the signed note %(note)s (session of %(date)s) does not "
                        "verify — its %(what)s does not match the stored content."
                    ) % {
                        "note": note.pk,
                        "date": f"{timezone.localtime(note.started_at):%Y-%m-%d}",
                        "what": str(RecordCheckKind(check.kind).label).lower(),
                    }
                notification_send(
                    recipient=admin,
                    event_key=f"record:{note.pk}:{check.kind}:mismatch",
                    kind="record_mismatch",
                    message=message,
                    url=reverse("crisis_sessions:note_detail", args=[note.pk]),
                )
            audit_record(
                action=Action.NOTIFY,
                obj=note,
                clinic=note.clinic,
                actor_username="scheduler",
                summary=f"Record check: {label} mismatch; {len(admins)} clinic admin(s) told",
            )
    except IntegrityError:
        return False
    return True
