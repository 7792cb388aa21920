"""What the mail worker does, for tests of the code that queues e-mail: send every pending
outbox row now (the worker tests in tests/notifications/test_tasks.py run the real task)."""

from __future__ import annotations

from crisisnotes.notifications.models import EmailStatus, OutgoingEmail
from crisisnotes.notifications.services import email_send


def deliver_queued_email() -> int:
    pending = OutgoingEmail.objects.filter(status=EmailStatus.PENDING).values_list("pk", flat=True)
    return sum(1 for pk in list(pending) if email_send(email_id=pk))
