import pytest
from django.urls import reverse

from crisisnotes.notifications.models import Notification
from crisisnotes.notifications.services import notification_mark_read, notification_send
from tests.conftest import login

pytestmark = pytest.mark.django_db


def test_a_notification_is_sent_once_per_event(
    counselor, mailoutbox, django_capture_on_commit_callbacks
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
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [counselor.email]
    first.refresh_from_db()
    assert first.emailed_at is not None


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
    assert not Notification.objects.exists()


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
