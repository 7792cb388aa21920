from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.effects import enqueue_now, enqueue_on_commit
from crisisnotes.notifications.models import EmailStatus, Notification, OutgoingEmail

logger = logging.getLogger(__name__)

# What a failed attempt may raise: the relay refused, timed out or was unreachable.
SEND_ERRORS = (OSError, smtplib.SMTPException)


def notification_send(
    *, recipient: User, event_key: str, kind: str, message: str, url: str = "", email: bool = True
) -> Notification | None:
    """Notify `recipient` of an event once: a second call with the same event_key creates nothing
    and sends nothing, and returns None. The e-mail (if the user has an address) is an outbox row
    in the same transaction, sent by a task after commit: a rolled-back event mails nobody, and
    a mail relay outage never fails or holds up the caller."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, event_key=event_key, kind=kind, message=message, url=url
            )
    except IntegrityError:
        return None
    if email and recipient.email and recipient.is_active:
        # The message names no client: e-mail leaves the clinic's systems, the record does not.
        body = f"{message}\n\nOpen crisisnotes to see it."
        if url:
            body += f"\n{settings.SITE_URL.rstrip('/')}{url}"
        email_queue(
            recipient=recipient,
            kind=OutgoingEmail.Kind.NOTIFICATION,
            subject=f"crisisnotes: {message[:80]}",
            body=body,
            notification=notification,
        )
    return notification


# Outbox rows one batch task sends: a scan of 100,000 alerts queues 200 messages, not 100,000.
EMAIL_BATCH_SIZE = 500


def _outbox_from_notifications_sql(*, source_sql: str, where_sql: str) -> tuple[str, list[Any]]:
    """The outbox rows for new notifications `n` (from `source_sql`): the subject and body
    notification_send writes, built by the database, for recipients that can be e-mailed.
    One home for that rule, whether the notifications come from a table or a CTE."""
    now = timezone.now()
    return (
        f"INSERT INTO {OutgoingEmail._meta.db_table} (kind, recipient_id, notification_id, "  # noqa: S608
        "subject, body, link_domain, link_https, status, attempts, last_error, "
        "next_attempt_at, created_at) "
        "SELECT %s, n.recipient_id, n.id, %s || substr(n.message, 1, 80), "
        "n.message || %s || CASE WHEN n.url <> '' THEN %s || n.url ELSE '' END, "
        "'', true, %s, 0, '', %s, %s "
        f"FROM {source_sql} JOIN {User._meta.db_table} u ON u.id = n.recipient_id "
        f"WHERE {where_sql} AND u.email <> '' AND u.is_active RETURNING id",
        [
            OutgoingEmail.Kind.NOTIFICATION,
            "crisisnotes: ",
            "\n\nOpen crisisnotes to see it.",
            "\n" + settings.SITE_URL.rstrip("/"),
            EmailStatus.PENDING,
            now,
            now,
        ],
    )


def _notifications_insert_sql(select_sql: str) -> str:
    return (
        f"INSERT INTO {Notification._meta.db_table} "
        f"(recipient_id, event_key, kind, message, url, created_at) {select_sql} "
        "ON CONFLICT (recipient_id, event_key) DO NOTHING"
    )


def notifications_create_from_select(*, select_sql: str, params: list[Any]) -> list[int]:
    """Create notifications in bulk from rows a SELECT produces (recipient_id, event_key, kind,
    message, url, created_at — in that order), for callers that notify thousands at once (the
    follow-up scan). As with `notification_send`, each (recipient, event) is notified once (a row
    whose notification exists already creates nothing), and each new one that can be e-mailed
    gets the same outbox row, in the caller's transaction; the rows are handed to send tasks in
    batches after commit (and the sweep re-sends any whose task was lost). Returns the ids.
    (`notifications_insert_cte` is the same on PostgreSQL as part of one larger statement.)"""
    with connection.cursor() as cursor:
        cursor.execute(f"{_notifications_insert_sql(select_sql)} RETURNING id", params)
        created = [row[0] for row in cursor.fetchall()]
        if not created:
            return []
        outbox_sql, outbox_params = _outbox_from_notifications_sql(
            source_sql=f"{Notification._meta.db_table} n",
            where_sql=f"n.id IN ({', '.join(['%s'] * len(created))})",
        )
        cursor.execute(outbox_sql, [*outbox_params, *created])
        emails = [row[0] for row in cursor.fetchall()]
    notifications_emails_enqueue(email_ids=emails)
    return created


def notifications_insert_cte(*, select_sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """PostgreSQL only: the two common table expressions `notified` (the notifications inserted
    from `select_sql`'s rows, as in `notifications_create_from_select`, RETURNING id) and
    `notified_email` (their outbox rows, RETURNING id), for a caller that writes its own rows and
    the notifications in ONE statement (the follow-up scan: no id lists sent back and forth).
    The caller reads the outbox ids from `notified_email` and passes them to
    `notifications_emails_enqueue` in the same transaction."""
    outbox_sql, outbox_params = _outbox_from_notifications_sql(
        source_sql="notified n", where_sql="true"
    )
    return (
        f"notified AS ({_notifications_insert_sql(select_sql)} "
        "RETURNING id, recipient_id, message, url), "
        f"notified_email AS ({outbox_sql})",
        [*params, *outbox_params],
    )


def notifications_emails_enqueue(*, email_ids: list[int]) -> None:
    """Hand new outbox rows to send tasks after commit, EMAIL_BATCH_SIZE per task."""
    from crisisnotes.notifications.tasks import email_send_batch_task

    for start in range(0, len(email_ids), EMAIL_BATCH_SIZE):
        enqueue_on_commit(email_send_batch_task, email_ids[start : start + EMAIL_BATCH_SIZE])


def email_queue(
    *,
    recipient: User,
    kind: str,
    subject: str = "",
    body: str = "",
    notification: Notification | None = None,
    link_domain: str = "",
    link_https: bool = True,
) -> OutgoingEmail:
    """The one way the app sends e-mail: an outbox row in the caller's transaction and a send
    task after commit. If the broker is down the row stays pending and `email_sweep` sends it
    when the broker is back."""
    outgoing = OutgoingEmail.objects.create(
        recipient=recipient,
        kind=kind,
        subject=subject,
        body=body,
        notification=notification,
        link_domain=link_domain,
        link_https=link_https,
    )
    from crisisnotes.notifications.tasks import email_send_task

    enqueue_on_commit(email_send_task, outgoing.pk)
    return outgoing


def _retry_delay(attempts: int) -> timedelta:
    base = settings.EMAIL_RETRY_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def _message(outgoing: OutgoingEmail) -> EmailMessage | None:
    user = outgoing.recipient
    if not user.email or not user.is_active:
        return None
    if outgoing.kind == OutgoingEmail.Kind.PASSWORD_RESET:
        from crisisnotes.accounts.services import user_password_reset_message

        subject, body = user_password_reset_message(
            user=user, domain=outgoing.link_domain, use_https=outgoing.link_https
        )
    else:
        subject, body = outgoing.subject, outgoing.body
    return EmailMessage(subject=subject, body=body, to=[user.email])


def email_send(*, email_id: int, now: datetime | None = None) -> OutgoingEmail | None:
    """Make one attempt at a pending e-mail. The row's lock is held across the attempt and the
    status checked under it, so two deliveries of the task never both send. A failure records
    the error and the next attempt's time, or gives up (FAILED) after EMAIL_MAX_ATTEMPTS; a
    deactivated user or a removed address gives up at once. Returns the row, or None if it
    was not pending."""
    with transaction.atomic():
        outgoing = (
            OutgoingEmail.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=email_id, status=EmailStatus.PENDING)
            .first()
        )
        if outgoing is None:
            return None
        now = now or timezone.now()
        outgoing.attempts += 1
        message = _message(outgoing)
        if message is None:
            outgoing.status = EmailStatus.FAILED
            outgoing.last_error = "The user has no e-mail address or is deactivated."
        else:
            try:
                # The SMTP backend gives up after EMAIL_TIMEOUT seconds: a hung relay costs one
                # worker that long, never a page.
                message.send()
            except SEND_ERRORS as error:
                outgoing.last_error = f"{type(error).__name__}: {error}"[:300]
                if outgoing.attempts >= settings.EMAIL_MAX_ATTEMPTS:
                    outgoing.status = EmailStatus.FAILED
                    logger.error("Gave up e-mail %s: %s", email_id, outgoing.last_error)
                else:
                    outgoing.next_attempt_at = now + _retry_delay(outgoing.attempts)
                    logger.warning("E-mail %s failed, retrying: %s", email_id, outgoing.last_error)
            else:
                outgoing.status = EmailStatus.SENT
                outgoing.sent_at = now
                outgoing.last_error = ""
                if outgoing.notification_id:
                    Notification.objects.filter(pk=outgoing.notification_id).update(emailed_at=now)
        outgoing.save()
    return outgoing


def email_send_many(*, email_ids: list[int]) -> list[OutgoingEmail]:
    """One attempt at each of these e-mails (a batch queued by a bulk notifier). Returns those
    still pending after it (the relay refused or timed out), each with its next attempt's time."""
    attempted = (email_send(email_id=email_id) for email_id in email_ids)
    return [o for o in attempted if o is not None and o.status == EmailStatus.PENDING]


def email_sweep(*, now: datetime | None = None) -> int:
    """Enqueue every pending e-mail whose next attempt is overdue by more than a minute: its
    task was lost (broker down at enqueue, Redis restarted). A duplicate of a live task is
    harmless (`email_send` checks the status under the row lock). Returns how many."""
    now = now or timezone.now()
    from crisisnotes.notifications.tasks import email_send_task

    due = OutgoingEmail.objects.filter(
        status=EmailStatus.PENDING, next_attempt_at__lte=now - timedelta(seconds=60)
    ).values_list("pk", flat=True)[:500]
    return sum(1 for email_id in due if enqueue_now(email_send_task, email_id))


def notification_mark_read(*, recipient: User, notification_ids: list[int] | None = None) -> int:
    """Mark the recipient's unread notifications (or the given ones) read; returns how many."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
