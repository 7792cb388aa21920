"""Follow-up tasks (CLINICAL.md §6): created from a session, attempts logged, closed with an
outcome; and the scan that beat runs every minute to remind counselors and escalate to
supervisors, each exactly once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from crisisnotes.accounts.models import Clinic, Role, User
from crisisnotes.accounts.selectors import supervisor_for
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.notifications.services import notification_send
from sessions.models import CrisisSession, FollowUpAlert, FollowUpAttempt, FollowUpTask
from sessions.models.followups import FollowUpAlertKind, FollowUpMethod, FollowUpOutcome
from sessions.models.notes import ContactType, Modality, RiskLevel

logger = logging.getLogger(__name__)


class FollowUpError(Exception):
    """The follow-up task could not be changed as asked; the message says why."""


def followup_default_due(*, note: CrisisSession, now: datetime | None = None) -> datetime | None:
    """Due time the clinic's policy sets for a note's risk: high → followup_due_hours_high
    after the session ended (or now, if it has not), moderate → followup_due_hours_moderate,
    otherwise none (a follow-up for low risk is optional)."""
    clinic = note.clinic
    hours = {
        RiskLevel.HIGH: clinic.followup_due_hours_high,
        RiskLevel.MODERATE: clinic.followup_due_hours_moderate,
    }.get(note.risk_level)  # type: ignore[call-overload]
    if hours is None:
        return None
    start = note.ended_at or now or timezone.now()
    return start + timedelta(hours=hours)


def _check_assignee(*, clinic: Clinic, assignee: User) -> None:
    if assignee.clinic_id != clinic.pk or not assignee.is_active:
        raise FollowUpError("Follow-ups can only be assigned to an active colleague.")
    if not assignee.has_role(Role.COUNSELOR):
        raise FollowUpError(f"{assignee.display_name} is not a counselor.")


@transaction.atomic
def followup_task_create(
    *,
    actor: User,
    note: CrisisSession,
    assigned_to: User,
    method: str,
    due_at: datetime | None = None,
    purpose: str = "",
    request: object = None,
) -> FollowUpTask:
    """Add a follow-up task to a session, assigned to an active counselor of the note's clinic.
    Without `due_at` the clinic's default for the note's risk applies; a low-risk task needs an
    explicit due time."""
    if actor.clinic_id != note.clinic_id:
        raise FollowUpError("This note belongs to another clinic.")
    _check_assignee(clinic=note.clinic, assignee=assigned_to)
    due_at = due_at or followup_default_due(note=note)
    if due_at is None:
        raise FollowUpError("Give a due time: the note's risk level sets no default.")
    task = FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=assigned_to,
        due_at=due_at,
        method=method,
        purpose=purpose,
        created_by=actor,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,  # type: ignore[arg-type]
        obj=task,
        summary=f"Follow-up due {due_at:%Y-%m-%d %H:%M} assigned to {assigned_to.display_name}",
    )
    return task


def _locked_open_task(task_id: int) -> FollowUpTask:
    # Row lock: two tabs logging the fifth attempt at once must not both get in.
    task = FollowUpTask.objects.select_for_update().select_related("clinic").get(pk=task_id)
    if not task.is_open:
        raise FollowUpError("This follow-up is already closed.")
    return task


@transaction.atomic
def followup_attempt_log(
    *,
    actor: User,
    task: FollowUpTask,
    method: str,
    outcome: str,
    notes: str = "",
    attempted_at: datetime | None = None,
    request: object = None,
) -> FollowUpAttempt:
    """Log one attempt on an open task, at most clinic.followup_max_attempts of them. An attempt
    that reached the client (safe or needing help), was declined or escalated closes the task
    with that outcome; "no answer" leaves it open for the next try."""
    task = _locked_open_task(task.pk)
    if actor.clinic_id != task.clinic_id:
        raise FollowUpError("This follow-up belongs to another clinic.")
    limit = task.clinic.followup_max_attempts
    if task.attempts.count() >= limit:
        raise FollowUpError(
            f"All {limit} attempts are logged; close the follow-up with its final outcome."
        )
    attempt = FollowUpAttempt.objects.create(
        task=task,
        attempted_at=attempted_at or timezone.now(),
        method=method,
        outcome=outcome,
        notes=notes,
        by=actor,
    )
    if outcome != FollowUpOutcome.NO_ANSWER:
        _close(task=task, actor=actor, outcome=outcome, notes="")
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,  # type: ignore[arg-type]
        obj=task,
        summary=f"Follow-up attempt: {attempt.get_outcome_display()}",
    )
    return attempt


def _close(*, task: FollowUpTask, actor: User, outcome: str, notes: str) -> None:
    task.outcome = outcome
    task.outcome_notes = notes
    task.closed_at = timezone.now()
    task.closed_by = actor
    task.save(update_fields=["outcome", "outcome_notes", "closed_at", "closed_by"])


@transaction.atomic
def followup_close(
    *, actor: User, task: FollowUpTask, outcome: str, notes: str = "", request: object = None
) -> FollowUpTask:
    """Close an open task with its final outcome; a closed task gets no more reminders."""
    task = _locked_open_task(task.pk)
    if actor.clinic_id != task.clinic_id:
        raise FollowUpError("This follow-up belongs to another clinic.")
    if outcome not in FollowUpOutcome.values:
        raise FollowUpError("Choose the final outcome.")
    _close(task=task, actor=actor, outcome=outcome, notes=notes)
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,  # type: ignore[arg-type]
        obj=task,
        summary=f"Follow-up closed: {task.get_outcome_display()}",
    )
    return task


_CONTACT_METHOD = {
    Modality.PHONE: FollowUpMethod.CALL,
    Modality.VIDEO: FollowUpMethod.CALL,
    Modality.TEXT: FollowUpMethod.TEXT,
    Modality.CHAT: FollowUpMethod.TEXT,
    Modality.IN_PERSON: FollowUpMethod.VISIT,
    Modality.MOBILE: FollowUpMethod.VISIT,
}


def followup_contact_record(
    *, note: CrisisSession, actor: User, request: object = None
) -> FollowUpAttempt | None:
    """A signed follow-up contact (CLINICAL.md §11) updates the task it answers: its outcome is
    logged as an attempt at the session's time (closing the task unless "no answer"), once —
    signing is the moment the contact becomes record. Nothing happens for other contact types,
    a task already closed, or a contact already logged on it."""
    if note.contact_type != ContactType.FOLLOW_UP or note.is_draft:
        return None
    if not note.answers_task_id or not note.followup_outcome:
        return None
    marker = f"Follow-up contact, session #{note.pk}"
    task = FollowUpTask.objects.get(pk=note.answers_task_id)
    if not task.is_open or task.attempts.filter(notes__startswith=marker).exists():
        return None
    try:
        return followup_attempt_log(
            actor=actor,
            task=task,
            method=_CONTACT_METHOD.get(Modality(note.modality), FollowUpMethod.CALL),
            outcome=note.followup_outcome,
            notes=marker,
            attempted_at=note.started_at,
            request=request,
        )
    except FollowUpError:
        # Every attempt is used up: the contact's outcome closes the task instead.
        if note.followup_outcome != FollowUpOutcome.NO_ANSWER:
            followup_close(
                actor=actor, task=task, outcome=note.followup_outcome, notes=marker, request=request
            )
        return None


# --- reminders and escalations ---------------------------------------------------------------


@dataclass
class ScanResult:
    reminders: int = 0
    escalations: int = 0


def followup_scan(*, now: datetime | None = None) -> ScanResult:
    """Remind and escalate from what the database says, so nothing depends on a queue.

    An open task due within its clinic's reminder lead time gets one reminder to its counselor;
    one still open past due + grace gets one escalation to the team's supervisor. Each alert is a
    FollowUpAlert row inserted in the same transaction as its notification: a concurrent or
    repeated scan fails the unique (task, kind) constraint and rolls its notification back, so
    every alert is sent exactly once however many scans run (two beats, a retried task)."""
    now = now or timezone.now()
    result = ScanResult()
    for clinic in Clinic.objects.all():
        open_tasks = FollowUpTask.objects.filter(clinic=clinic, closed_at__isnull=True)
        lead = timedelta(minutes=clinic.followup_reminder_lead_minutes)
        grace = timedelta(hours=clinic.followup_grace_hours)
        for task_id in (
            open_tasks.filter(due_at__lte=now + lead)
            .exclude(alerts__kind=FollowUpAlertKind.REMINDER)
            .values_list("pk", flat=True)
        ):
            if _alert_send(task_id=task_id, kind=FollowUpAlertKind.REMINDER, now=now):
                result.reminders += 1
        for task_id in (
            open_tasks.filter(due_at__lte=now - grace)
            .exclude(alerts__kind=FollowUpAlertKind.ESCALATION)
            .values_list("pk", flat=True)
        ):
            if _alert_send(task_id=task_id, kind=FollowUpAlertKind.ESCALATION, now=now):
                result.escalations += 1
    return result


def _alert_send(*, task_id: int, kind: str, now: datetime) -> bool:
    try:
        with transaction.atomic():
            task = FollowUpTask.objects.select_related("assigned_to", "client").get(pk=task_id)
            if not task.is_open:
                return False
            recipient = (
                task.assigned_to
                if kind == FollowUpAlertKind.REMINDER
                else supervisor_for(user=task.assigned_to)
            )
            # The insert is the claim: a second scan blocks here on the unique index until the
            # first commits, then fails, and nothing below runs twice.
            alert = FollowUpAlert.objects.create(
                task=task, kind=kind, recipient=recipient, sent_at=now
            )
            if recipient is None:
                logger.warning("Follow-up %s is overdue and its team has no supervisor", task_id)
            else:
                notification_send(
                    recipient=recipient,
                    event_key=f"followup:{task.pk}:{kind}",
                    kind=f"followup_{kind}",
                    message=_alert_message(task=task, kind=kind),
                    url=reverse("crisis_sessions:my_work")
                    if kind == FollowUpAlertKind.REMINDER
                    else reverse("crisis_sessions:dashboard"),
                )
            audit_record(
                action=Action.NOTIFY,
                obj=task,
                clinic=task.clinic,
                actor_username="scheduler",
                summary=f"Follow-up {alert.get_kind_display().lower()} to "
                f"{recipient.display_name if recipient else 'nobody (no supervisor)'}",
            )
    except IntegrityError:
        return False
    return True


def _alert_message(*, task: FollowUpTask, kind: str) -> str:
    # No client name or alias: the message is e-mailed, and e-mail leaves the clinic's systems.
    due = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
    if kind == FollowUpAlertKind.REMINDER:
        return f"Follow-up {task.pk} ({task.get_method_display().lower()}) is due at {due}."
    return (
        f"Follow-up {task.pk} assigned to {task.assigned_to.display_name} was due at {due} "
        "and is still open."
    )
