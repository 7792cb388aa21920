from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from crisisnotes.accounts.models import User
from crisisnotes.effects import enqueue_now, enqueue_on_commit
from crisisnotes.notifications.models import EmailStatus, Notification, OutgoingEmail
from crisisnotes.notifications.texts import recipient_language, text_in_recipient_language_sql

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
            # The e-mail first, so the notification is written once, pointing at it; a second
            # event_key rolls both back (and the send task, registered in this savepoint).
            outgoing = None
            if email and recipient.can_be_emailed:
                subject, body = _notification_email(
                    messages=[message], urls=[url], language=recipient.language
                )
                outgoing = email_queue(
                    recipient=recipient,
                    kind=OutgoingEmail.Kind.NOTIFICATION,
                    subject=subject,
                    body=body,
                )
            return Notification.objects.create(
                recipient=recipient,
                event_key=event_key,
                kind=kind,
                message=message,
                url=url,
                email=outgoing,
            )
    except IntegrityError:
        return None


# `User.can_be_emailed` for the bulk notifiers, of a user row `u`
# (tests/notifications/test_services.py compares the two).
_EMAILABLE_SQL = "u.email <> '' AND u.is_active"

# What an e-mail about notifications says, in its recipient's language (the notifications it
# tells of were written in it too). It names no client: e-mail leaves the clinic's systems, the
# record does not. One notification: its message (the subject, cut to 80 characters) and link.
# Several made together for one recipient (a batch of the follow-up scan): a count, one line
# each, and their link if they share one, else the notifications page.
_SUBJECT_PREFIX = "crisisnotes: "
_LINE_PREFIX = "- "


def _open_one() -> str:
    return gettext("Open crisisnotes to see it.")


def _open_many() -> str:
    return gettext("Open crisisnotes to see them.")


def _count_subject(count: int) -> str:
    return ngettext("%(count)s new notification", "%(count)s new notifications", count)


def _notification_email(*, messages: list[str], urls: list[str], language: str) -> tuple[str, str]:
    """The subject and body of the e-mail telling one recipient, whose `User.language` is
    `language`, of these notifications (in the order they were made).
    `_outbox_from_notifications_sql` builds the same text in SQL for the bulk notifiers; the
    tests compare the two."""
    site = settings.SITE_URL.rstrip("/")
    with translation.override(recipient_language(language)):
        if len(messages) == 1:
            body = f"{messages[0]}\n\n{_open_one()}" + (f"\n{site}{urls[0]}" if urls[0] else "")
            return f"{_SUBJECT_PREFIX}{messages[0][:80]}", body
        lines = "\n".join(_LINE_PREFIX + message for message in messages)
        url = urls[0] if len(set(urls)) == 1 and urls[0] else reverse("notifications:list")
        subject = _SUBJECT_PREFIX + _count_subject(len(messages)) % {"count": len(messages)}
        return subject, f"{lines}\n\n{_open_many()}\n{site}{url}"


# Outbox rows one batch task sends: a scan that mails 2,000 counselors queues 4 messages.
EMAIL_BATCH_SIZE = 500


def _lines_sql() -> str:
    """The notifications' messages of one group, one line each in the order they were made."""
    if connection.vendor == "postgresql":
        return "string_agg(%s || n.message, %s ORDER BY n.id)"
    # SQLite before 3.44 has no ORDER BY in an aggregate: it concatenates in the order its
    # input comes, which the caller's source orders by (recipient_id, id).
    return "group_concat(%s || n.message, %s)"


def _outbox_from_notifications_sql(
    *, source_sql: str, where_sql: str, email_id_sql: str = ""
) -> tuple[str, list[Any]]:
    """The outbox rows for new notifications `n` (from `source_sql`, filtered by `where_sql`):
    ONE e-mail per recipient that can be e-mailed, with the subject and body
    `_notification_email` writes, in the recipient's language, built by the database. With
    `email_id_sql` (an expression of `n` holding ids taken from the outbox's sequence for
    recipients that can be e-mailed) the rows get those ids, one e-mail per id; otherwise the
    table gives them, and the recipients are checked here. RETURNING id, recipient_id. One home
    for the e-mail's text whether the notifications come from a table or a CTE."""
    now = timezone.now()
    site = settings.SITE_URL.rstrip("/")
    # The notifications are grouped first, one row per e-mail, and only those rows read their
    # recipient's row (its language, whether it can be e-mailed): 200 reads for a scan's batch
    # of 5,000 notifications to 200 counselors, not 5,000.
    language = "u.language"
    # Every language of settings.LANGUAGES has two plural forms, one and several (test_i18n
    # checks Spanish's header), so this e-mail's count, two or more, takes the form of 2.
    count_sql, count_params = text_in_recipient_language_sql(
        lambda: _count_subject(2),
        language_column=language,
        values={"count": ("CAST(g.count AS TEXT)", [])},
    )
    open_one_sql, open_one_params = text_in_recipient_language_sql(
        _open_one, language_column=language
    )
    open_many_sql, open_many_params = text_in_recipient_language_sql(
        _open_many, language_column=language
    )
    email_column, id_column, id_value, group = "", "", "", "n.recipient_id"
    emailable = f" WHERE {_EMAILABLE_SQL}"
    if email_id_sql:
        email_column, id_column, id_value = f"{email_id_sql} AS email_id, ", "id, ", "g.email_id, "
        group, emailable = f"{email_id_sql}, {group}", ""
    groups = (
        f"SELECT {email_column}n.recipient_id, count(*) AS count, min(n.message) AS message, "  # noqa: S608
        f"{_lines_sql()} AS lines, min(n.url) AS min_url, max(n.url) AS max_url "
        f"FROM {source_sql} WHERE {where_sql} GROUP BY {group}"
    )
    one = "g.count = 1"
    same_url = "g.min_url = g.max_url AND g.min_url <> ''"
    sql = (
        f"INSERT INTO {OutgoingEmail._meta.db_table} ({id_column}kind, recipient_id, "  # noqa: S608
        "subject, body, link_domain, link_https, status, attempts, last_error, "
        "next_attempt_at, created_at) "
        f"SELECT {id_value}%s, g.recipient_id, "
        f"CASE WHEN {one} THEN %s || substr(g.message, 1, 80) ELSE %s || {count_sql} END, "
        f"CASE WHEN {one} THEN g.message || %s || {open_one_sql} "
        "|| CASE WHEN g.min_url <> '' THEN %s || g.min_url ELSE '' END "
        f"ELSE g.lines || %s || {open_many_sql} || %s "
        f"|| CASE WHEN {same_url} THEN g.min_url ELSE %s END END, "
        "'', true, %s, 0, '', %s, %s "
        f"FROM ({groups}) g JOIN {User._meta.db_table} u ON u.id = g.recipient_id{emailable} "
        "RETURNING id, recipient_id"
    )
    return sql, [
        OutgoingEmail.Kind.NOTIFICATION,
        _SUBJECT_PREFIX,
        _SUBJECT_PREFIX,
        *count_params,
        "\n\n",
        *open_one_params,
        "\n" + site,
        "\n\n",
        *open_many_params,
        "\n" + site,
        reverse("notifications:list"),
        EmailStatus.PENDING,
        now,
        now,
        _LINE_PREFIX,
        "\n",
    ]


_NOTIFICATION_COLUMNS = "recipient_id, event_key, kind, message, url, created_at"


def _notifications_insert_sql(select_sql: str, *, email_id: bool = False) -> str:
    columns = f"{_NOTIFICATION_COLUMNS}, email_id" if email_id else _NOTIFICATION_COLUMNS
    return (
        f"INSERT INTO {Notification._meta.db_table} ({columns}) {select_sql} "
        "ON CONFLICT (recipient_id, event_key) DO NOTHING"
    )


def notifications_create_from_select(*, select_sql: str, params: list[Any]) -> list[int]:
    """Create notifications in bulk from rows a SELECT produces (recipient_id, event_key, kind,
    message, url, created_at — in that order), for callers that notify thousands at once (the
    follow-up scan). As with `notification_send`, each (recipient, event) is notified once (a row
    whose notification exists already creates nothing), in the caller's transaction; each
    recipient that can be e-mailed gets ONE outbox row telling of all of theirs (their
    notifications point at it), handed to send tasks in batches after commit (the sweep
    re-sends any whose task was lost). Returns the ids. (`notifications_insert_cte` is the same
    on PostgreSQL as part of one larger statement.)"""
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"{_notifications_insert_sql(select_sql)} RETURNING id", params)
        created = [row[0] for row in cursor.fetchall()]
        if not created:
            return []
        listed = ", ".join(["%s"] * len(created))
        outbox_sql, outbox_params = _outbox_from_notifications_sql(
            source_sql=f"(SELECT * FROM {table} WHERE id IN ({listed}) "  # noqa: S608
            "ORDER BY recipient_id, id) n",
            where_sql="true",
        )
        cursor.execute(outbox_sql, [*outbox_params, *created])
        emails = cursor.fetchall()
        if emails:
            outbox = OutgoingEmail._meta.db_table
            new_emails = ", ".join(["%s"] * len(emails))
            cursor.execute(
                f"UPDATE {table} SET email_id = (SELECT o.id FROM {outbox} o "  # noqa: S608
                f"WHERE o.id IN ({new_emails}) AND o.recipient_id = {table}.recipient_id) "
                f"WHERE id IN ({listed})",
                [*[row[0] for row in emails], *created],
            )
    notifications_emails_enqueue(email_ids=[row[0] for row in emails])
    return created


def notifications_insert_cte(*, select_sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """PostgreSQL only: common table expressions that insert the notifications from
    `select_sql`'s rows as `notifications_create_from_select` does, and their e-mails, one per
    recipient, for a caller that writes its own rows and the notifications in ONE statement (the
    follow-up scan: no id lists sent back and forth). Each recipient that can be e-mailed takes
    an id from the outbox's sequence first, so every notification is written once, already
    pointing at its e-mail (`notice_mail`, one row); `notified` is the inserted notifications and
    `notified_email` their outbox rows (RETURNING id), which the caller passes to
    `notifications_emails_enqueue` in the same transaction. An id taken for a recipient whose
    notifications all existed already is left unused."""
    outbox_sql, outbox_params = _outbox_from_notifications_sql(
        source_sql="notified n", where_sql="n.email_id IS NOT NULL", email_id_sql="n.email_id"
    )
    # Each recipient's e-mail id is looked up in ONE jsonb object (recipient id -> e-mail id), a
    # binary search per notification. Joined to a CTE of (recipient, e-mail) rows instead, with
    # no statistics on either side, PostgreSQL planned a nested loop: 5,000 × 200 comparisons,
    # a third of a batch's time (bench/README.md).
    notified_sql = _notifications_insert_sql(
        "SELECT r.*, CAST(m.ids ->> CAST(r.recipient_id AS TEXT) AS BIGINT) "
        "FROM notice_rows r CROSS JOIN notice_mail m",
        email_id=True,
    )
    mailed = (
        "SELECT jsonb_object_agg(r.recipient_id, nextval(pg_get_serial_sequence("  # noqa: S608
        f"'{OutgoingEmail._meta.db_table}', 'id'))) AS ids "
        "FROM (SELECT DISTINCT recipient_id FROM notice_rows) r "
        f"JOIN {User._meta.db_table} u ON u.id = r.recipient_id WHERE {_EMAILABLE_SQL}"
    )
    return (
        f"notice_rows ({_NOTIFICATION_COLUMNS}) AS MATERIALIZED ({select_sql}), "
        f"notice_mail AS ({mailed}), "
        f"notified AS ({notified_sql} RETURNING id, recipient_id, message, url, email_id), "
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
    if not user.can_be_emailed:
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
