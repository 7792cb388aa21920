from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.celery import enqueue_on_commit
from crisisnotes.notifications.models import Notification

logger = logging.getLogger(__name__)


def notification_send(
    *, recipient: User, event_key: str, kind: str, message: str, url: str = "", email: bool = True
) -> Notification | None:
    """Notify `recipient` of an event once: a second call with the same event_key creates nothing
    and sends nothing, and returns None. The e-mail (if the user has an address) goes out after
    the surrounding transaction commits, so a rolled-back event never mails anyone."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, event_key=event_key, kind=kind, message=message, url=url
            )
    except IntegrityError:
        return None
    if email and recipient.email and recipient.is_active:
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


# Notifications one e-mail task sends; a scan of 100,000 alerts queues 200 messages, not 100,000.
EMAIL_BATCH_SIZE = 500


def notifications_create_from_select(*, select_sql: str, params: list[Any]) -> list[int]:
    """Create notifications in bulk from rows a SELECT produces (recipient_id, event_key, kind,
    message, url, created_at — in that order), for callers that notify thousands at once (the
    follow-up scan). Like `notification_send`, each (recipient, event) is notified once: a row
    whose notification exists already creates nothing. The new ones are e-mailed by tasks queued
    in batches after the surrounding transaction commits. Returns the ids created."""
    sql = (
        f"INSERT INTO {Notification._meta.db_table} "
        f"(recipient_id, event_key, kind, message, url, created_at) {select_sql} "
        "ON CONFLICT (recipient_id, event_key) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = [row[0] for row in cursor.fetchall()]
    # Imported here: the task module imports this one to call the service.
    from crisisnotes.notifications.tasks import notifications_email as email_task

    for start in range(0, len(created), EMAIL_BATCH_SIZE):
        enqueue_on_commit(email_task, created[start : start + EMAIL_BATCH_SIZE])
    return created


def notifications_email(*, notification_ids: list[int]) -> None:
    """E-mail each of these notifications that has not been e-mailed yet (safe to run twice)."""
    for notification_id in (
        Notification.objects.filter(
            pk__in=notification_ids, emailed_at__isnull=True, recipient__is_active=True
        )
        .exclude(recipient__email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        _email(notification_id)


def _email(notification_id: int) -> None:
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    # The message names no client: e-mail leaves the clinic's systems, the record does not.
    body = f"{notification.message}\n\nOpen crisisnotes to see it."
    if notification.url:
        body += f"\n{settings.SITE_URL.rstrip('/')}{notification.url}"
    try:
        send_mail(
            subject=f"crisisnotes: {notification.message[:80]}",
            message=body,
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    except OSError:
        # The in-app notification stands; a mail server outage must not fail the caller.
        logger.exception("Could not e-mail notification %s", notification_id)
        return
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def notification_mark_read(*, recipient: User, notification_ids: list[int] | None = None) -> int:
    """Mark the recipient's unread notifications (or the given ones) read; returns how many."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
