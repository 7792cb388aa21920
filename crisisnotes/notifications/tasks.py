"""E-mail tasks: each takes an outbox row's id; the row, not the broker, remembers what is due."""

from __future__ import annotations

from celery import Task, shared_task
from django.utils import timezone

from crisisnotes.notifications.models import EmailStatus
from crisisnotes.notifications.services import email_send, email_send_many, email_sweep


@shared_task(name="mail.send", bind=True, acks_late=True, ignore_result=True, max_retries=None)
def email_send_task(self: Task, email_id: int) -> str:
    outgoing = email_send(email_id=email_id)
    if outgoing is None:
        return "not pending"
    if outgoing.status == EmailStatus.PENDING:
        # Retry when the row says; if this retry message is lost the sweep re-sends the row.
        delay = max((outgoing.next_attempt_at - timezone.now()).total_seconds(), 0)
        raise self.retry(countdown=delay)
    return str(outgoing.status)


@shared_task(name="mail.sweep", acks_late=True, ignore_result=True)
def email_sweep_task() -> int:
    return email_sweep()


@shared_task(name="mail.send_batch", acks_late=True, ignore_result=True)
def email_send_batch_task(email_ids: list[int]) -> None:
    # A failed one retries on its own, when its row says (and the sweep backs that up).
    for outgoing in email_send_many(email_ids=email_ids):
        delay = max((outgoing.next_attempt_at - timezone.now()).total_seconds(), 0)
        email_send_task.apply_async(args=(outgoing.pk,), countdown=delay)
