"""Automatic logoff on the server: the clinic's idle timeout, 401 JSON for scripts, a passive
status check, "stay signed in", and a session cookie that ends with the browser."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crisisnotes.accounts.idle import LAST_ACTIVITY, TIMEOUT
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, user):
    response = client.post(reverse("login"), {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _idle_for(client, seconds: float) -> None:
    session = client.session
    session[LAST_ACTIVITY] = time.time() - seconds
    session.save()


def test_the_clinics_timeout_is_taken_at_sign_in_and_the_cookie_ends_with_the_browser(
    client, counselor
):
    counselor.clinic.idle_timeout_minutes = 7
    counselor.clinic.save()
    response = client.post(reverse("login"), {"login": counselor.username, "password": PASSWORD})
    assert client.session[TIMEOUT] == 7 * 60
    cookie = response.cookies["sessionid"]
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie


def test_a_page_after_the_timeout_signs_out_and_says_why(client, counselor):
    _sign_in(client, counselor)
    _idle_for(client, 15 * 60 + 1)
    response = client.get(reverse("crisis_sessions:my_work"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert any("without activity" in str(m) for m in get_messages(response.wsgi_request))


def test_activity_before_the_timeout_keeps_the_session(client, counselor):
    _sign_in(client, counselor)
    _idle_for(client, 14 * 60)
    assert client.get(reverse("crisis_sessions:my_work")).status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY] < 5


def test_an_autosave_after_the_timeout_gets_401_json(client, counselor):
    _sign_in(client, counselor)
    _idle_for(client, 16 * 60)
    response = client.post("/notes/1/save/", {}, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 401
    assert response.json()["signed_out"] is True
    # Already signed out: the next script request is answered the same way, not redirected.
    response = client.post("/notes/1/save/", {}, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 401


def test_the_status_check_is_not_activity_but_stay_signed_in_is(client, counselor):
    _sign_in(client, counselor)
    _idle_for(client, 10 * 60)
    status = client.get(reverse("session_status"), HTTP_ACCEPT="application/json").json()
    assert 290 <= status["remaining"] <= 300 and status["timeout"] == 900
    assert time.time() - client.session[LAST_ACTIVITY] >= 10 * 60 - 1
    kept = client.post(reverse("session_keepalive"), HTTP_ACCEPT="application/json").json()
    assert kept["remaining"] >= 895
    assert time.time() - client.session[LAST_ACTIVITY] < 5


def test_a_page_is_written_with_its_timers_starting_point(client, counselor):
    """The timer in the page starts from these, so a page load needs no status request."""
    _sign_in(client, counselor)
    _idle_for(client, 14)  # under the 15 s between activity writes: the clock is not reset
    html = client.get(reverse("crisis_sessions:my_work")).content.decode()
    remaining = int(re.search(r'data-idle-remaining="(\d+)"', html).group(1))
    assert 15 * 60 - 16 <= remaining <= 15 * 60 - 14
    assert 'data-idle-timeout="900"' in html
    status = client.get(reverse("session_status"), HTTP_ACCEPT="application/json").json()
    assert abs(status["remaining"] - remaining) <= 1 and status["timeout"] == 900
    client.logout()
    assert "data-idle-remaining" not in client.get(reverse("login")).content.decode()


def test_live_polls_are_not_activity_and_stop_once_signed_out(client, counselor):
    """The bell polls every page every few seconds: an unattended screen must still sign out."""
    _sign_in(client, counselor)
    _idle_for(client, 10 * 60)
    poll = {"HTTP_X_LIVE_POLL": "1", "HTTP_HX_REQUEST": "true"}
    assert client.get(reverse("notifications:bell"), **poll).status_code in (200, 204)
    assert time.time() - client.session[LAST_ACTIVITY] >= 10 * 60 - 1
    _idle_for(client, 15 * 60 + 1)
    response = client.get(reverse("notifications:bell"), **poll)
    assert response.status_code == 401 and "_auth_user_id" not in client.session
