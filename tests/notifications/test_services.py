from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.notifications.models import EmailStatus, Notification, OutgoingEmail
from crisisnotes.notifications.services import (
    _EMAILABLE_SQL,
    email_send,
    email_sweep,
    notification_mark_read,
    notification_send,
)
from tests.conftest import login
from tests.factories import UserFactory
from tests.smtp import smtp_relay

pytestmark = pytest.mark.django_db


def test_a_notification_is_sent_once_per_event(
    counselor, mailoutbox, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        first = notification_send(
            recipient=counselor,
            event_key="followup:1:reminder",
            kind="reminder",
            message="A follow-up is due soon",
            url="/work/",
        )
        second = notification_send(
            recipient=counselor,
            event_key="followup:1:reminder",
            kind="reminder",
            message="A follow-up is due soon",
            url="/work/",
        )
    assert first is not None and second is None
    assert Notification.objects.filter(recipient=counselor).count() == 1
    # Queued, not sent in the caller: one outbox row, sent by the task.
    assert mailoutbox == []
    outgoing = OutgoingEmail.objects.get()
    assert first.email == outgoing and outgoing.status == EmailStatus.PENDING
    email_send(email_id=outgoing.pk)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [counselor.email]
    # The message names no client, and links to where the event is.
    assert mailoutbox[0].subject == "crisisnotes: A follow-up is due soon"
    assert mailoutbox[0].body == (
        f"A follow-up is due soon\n\nOpen crisisnotes to see it.\n{settings.SITE_URL}/work/"
    )
    outgoing.refresh_from_db()
    assert outgoing.status == EmailStatus.SENT
    # A second delivery of the task sends nothing.
    assert email_send(email_id=outgoing.pk) is None
    assert len(mailoutbox) == 1


def test_the_email_is_in_its_recipients_language(counselor, mailoutbox, settings):
    """The safety app writes a notification in its recipient's language; its e-mail's own words
    are in that language too (docs/i18n.md)."""
    counselor.language = "es"
    counselor.save(update_fields=["language"])
    notification_send(
        recipient=counselor,
        event_key="plan:1",
        kind="plan",
        message="Un aviso inventado",
        url="/work/",
    )
    email_send(email_id=OutgoingEmail.objects.get().pk)
    assert mailoutbox[0].subject == "crisisnotes: Un aviso inventado"
    assert mailoutbox[0].body == (
        f"Un aviso inventado\n\nAbra crisisnotes para verla.\n{settings.SITE_URL}/work/"
    )


def test_no_email_when_the_transaction_rolls_back(
    counselor, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notification_send(recipient=counselor, event_key="x:1", kind="x", message="Rolled back")
        raise RuntimeError
    assert callbacks == [] and mailoutbox == []
    assert not Notification.objects.exists() and not OutgoingEmail.objects.exists()


def test_a_refusing_relay_is_retried_then_given_up_with_a_visible_status(
    client, counselor, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_MAX_ATTEMPTS = 3
    settings.EMAIL_RETRY_SECONDS = 60
    notification = notification_send(
        recipient=counselor, event_key="e:1", kind="x", message="Follow-up 1 is due"
    )
    assert notification is not None
    outgoing = notification.email
    assert outgoing is not None
    now = timezone.now()
    with smtp_relay(refusing=True) as relay:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", relay.port
        email_send(email_id=outgoing.pk, now=now)
        outgoing.refresh_from_db()
        assert outgoing.status == EmailStatus.PENDING and outgoing.attempts == 1
        assert "421" in outgoing.last_error
        assert outgoing.next_attempt_at == now + timedelta(seconds=60)
        login(client, counselor)
        page = client.get(reverse("notifications:list")).content.decode()
        assert "e-mail: not sent yet, retrying (1 attempt)" in page
        email_send(email_id=outgoing.pk, now=now)
        email_send(email_id=outgoing.pk, now=now)
        outgoing.refresh_from_db()
        assert outgoing.status == EmailStatus.FAILED and outgoing.attempts == 3
        assert relay.refused == 3 and relay.messages == []
    page = client.get(reverse("notifications:list")).content.decode()
    assert "e-mail: not sent (gave up)" in page


def test_the_sweep_requeues_only_overdue_pending_email(counselor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notification_send(recipient=counselor, event_key="e:2", kind="x", message="Due")
    outgoing = OutgoingEmail.objects.get()
    now = timezone.now()
    # Just queued: its own task is on the way, the sweep leaves it alone.
    assert email_sweep(now=now) == 0
    assert email_sweep(now=now + timedelta(minutes=2)) == 1
    email_send(email_id=outgoing.pk)
    assert email_sweep(now=now + timedelta(minutes=2)) == 0


def test_bell_counts_unread_and_marking_read_clears_it(client, counselor, teammate):
    notification_send(recipient=counselor, event_key="a", kind="x", message="First", email=False)
    notification_send(recipient=counselor, event_key="b", kind="x", message="Second", email=False)
    notification_send(recipient=teammate, event_key="a", kind="x", message="Not yours", email=False)
    login(client, counselor)
    page = client.get(reverse("notifications:list")).content.decode()
    assert 'aria-label="2 unread"' in page and "Not yours" not in page
    assert notification_mark_read(recipient=counselor) == 2
    page = client.get(reverse("notifications:list")).content.decode()
    assert "unread" not in page.split("<main", 1)[1].split("Mark all read", 1)[0]


def test_unread_count_sql_counts_what_notification_unread_lists(counselor, teammate):
    """notification_unread_count runs a statement written once on PostgreSQL, where the ORM's
    count of notification_unread (the rule's home) was built at every page's bell: read and
    unread, the reader's and another's, they must count the same."""
    from django.db import connection

    from crisisnotes.notifications.selectors import notification_unread, notification_unread_count

    assert connection.vendor == "postgresql"
    assert notification_unread_count(user=counselor) == 0
    for key in "abc":
        notification_send(recipient=counselor, event_key=key, kind="x", message=key, email=False)
    notification_send(recipient=teammate, event_key="a", kind="x", message="Not", email=False)
    Notification.objects.filter(recipient=counselor, event_key="a").update(read_at=timezone.now())
    for user, count in ((counselor, 2), (teammate, 1)):
        assert notification_unread_count(user=user) == notification_unread(user=user).count()
        assert notification_unread_count(user=user) == count


def test_who_is_emailed_is_one_rule_in_python_and_sql(clinic):
    """`User.can_be_emailed` (each notification, security notice and password reset) and
    `_EMAILABLE_SQL` (the follow-up scan's e-mails, built in one statement) pick the same users."""
    users = [
        UserFactory(clinic=clinic, username=f"mail{i}", email=email, is_active=active)
        for i, (email, active) in enumerate(
            [("a@example.org", True), ("", True), ("b@example.org", False), ("", False)]
        )
    ]
    table = User._meta.db_table
    in_sql = {
        user.pk for user in User.objects.raw(f"SELECT u.id FROM {table} u WHERE {_EMAILABLE_SQL}")
    }
    assert {user.pk for user in users if user.can_be_emailed} == {users[0].pk}
    assert in_sql & {user.pk for user in users} == {users[0].pk}
