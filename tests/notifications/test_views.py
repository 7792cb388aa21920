"""The live bell: polled from every page, 204 while nothing changed, the newest message when
the count goes up."""

import pytest
from django.urls import reverse

from crisisnotes.notifications.services import notification_send
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _send(user, n: int) -> None:
    notification_send(
        recipient=user, event_key=f"test:{n}", kind="test", message=f"Message {n}", email=False
    )


def test_every_page_renders_the_polled_bell(client, counselor, settings):
    settings.NOTIFICATION_POLL_SECONDS = 7
    login(client, counselor)
    body = client.get(reverse("crisis_sessions:my_work")).content.decode()
    assert 'id="notification-bell"' in body
    assert 'hx-trigger="every 7s"' in body
    assert f"{reverse('notifications:bell')}?seen=0" in body


def test_bell_poll_is_204_until_a_notification_arrives(client, counselor, teammate):
    login(client, counselor)
    url = reverse("notifications:bell")
    assert client.get(url, {"seen": 0}).status_code == 204
    _send(teammate, 1)  # someone else's: still nothing for this user
    assert client.get(url, {"seen": 0}).status_code == 204
    _send(counselor, 2)
    response = client.get(url, {"seen": 0})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'aria-label="1 unread"' in body and "New: Message 2" in body
    assert "?seen=1" in body
    assert client.get(url, {"seen": 1}).status_code == 204


def test_bell_poll_after_reading_drops_the_badge(client, counselor):
    _send(counselor, 1)
    login(client, counselor)
    client.post(reverse("notifications:read"))
    response = client.get(reverse("notifications:bell"), {"seen": 1})
    assert response.status_code == 200
    assert "unread" not in response.content.decode() and "New:" not in response.content.decode()


def test_bell_poll_of_a_signed_out_page_stops_polling(client):
    response = client.get(reverse("notifications:bell"), {"seen": 0})
    # 286 tells htmx to stop polling; a redirect would swap the login page into the nav bar.
    assert response.status_code == 286 and response.content == b""
