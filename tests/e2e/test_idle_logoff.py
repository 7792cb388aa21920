"""Automatic logoff in a real browser: the warning a minute before (half a minute with the
shortest clinic timeout) and "Stay signed in"; a note typed across an expiry keeps every
character and is saved after signing in again; no note text left in the browser after logout
or when another user signs in."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import BrowserContext, Page, Request, expect

from crisisnotes.accounts.idle import LAST_ACTIVITY
from crisisnotes.accounts.models import Clinic, User
from sessions.models import Client, ExplorationStage
from tests.e2e.conftest import DEMO_PASSWORD, log_in
from tests.e2e.helpers_note import wait_ready, wait_saved
from tests.sessions.note_helpers import start_note

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STORED = """() => {
  const out = {};
  for (const store of [localStorage, sessionStorage]) {
    for (let i = 0; i < store.length; i++) out[store.key(i)] = store.getItem(store.key(i));
  }
  return out;
}"""


def _one_minute_timeout() -> None:
    Clinic.objects.update(idle_timeout_minutes=1)


def test_idle_warning_stay_signed_in_then_logoff(page: Page, live_server, demo):
    _one_minute_timeout()
    base = live_server.url
    asked: list[float] = []
    opened: list[float] = []

    def note_status_request(request: Request) -> None:
        if "/session/status/" in request.url:
            asked.append(time.monotonic())
        elif request.is_navigation_request() and request.url == f"{base}/work/":
            # The page's timer starts after this request; the test's own later clock reading
            # would be late by whatever a loaded machine takes to report the page loaded.
            opened.append(time.monotonic())

    page.on("request", note_status_request)
    log_in(page, base, "counselor")
    expect(page).to_have_url(f"{base}/work/")
    warning = page.locator("#idle-warning")
    expect(warning).to_be_hidden()
    # The page came with the time left: opening it asked the server nothing.
    page.wait_for_timeout(2_000)
    assert asked == []
    # Half a minute before the end (a one-minute timeout), the warning with its button, once
    # the server was asked when the timer said so.
    expect(warning).to_be_visible(timeout=40_000)
    assert asked and opened and asked[0] - opened[-1] >= 25, "the timer asked before it was due"
    expect(warning).to_contain_text("You will be signed out in")
    stayed = time.monotonic()  # before the click: the minute runs from the click, not after it
    page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    # Nothing more happens: the warning comes back, then the login page with the reason.
    expect(warning).to_be_visible(timeout=40_000)
    expect(page).to_have_url(f"{base}/login/?next=%2Fwork%2F", timeout=45_000)
    assert time.monotonic() - stayed >= 55, "signed out before the minute after Stay signed in"
    expect(page.get_by_role("status")).to_contain_text(
        "You were signed out after 1 minute without activity"
    )
    page.goto(f"{base}/work/")
    expect(page).to_have_url(f"{base}/login/?next=/work/")


def _expire_server_session(context: BrowserContext) -> None:
    key = next(c["value"] for c in context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    session[LAST_ACTIVITY] = time.time() - 3600
    session.save()


def _type_then_expire(page: Page, context: BrowserContext, base: str) -> tuple[int, str]:
    counselor = User.objects.get(username="counselor")
    client = Client.objects.get(alias="Caller, blue jacket")
    note = start_note(counselor, client=client)
    log_in(page, base, "counselor")
    page.goto(f"{base}/notes/{note.pk}/")
    wait_ready(page)
    field = page.locator("#id_exploration-precipitating_event")
    field.click()
    page.keyboard.type("Saved part. ")
    wait_saved(page)
    _expire_server_session(context)  # the idle timeout passes on the server
    unsaved = "Typed across the expiry: every character counts!"
    page.keyboard.type(unsaved)
    expect(page.get_by_test_id("save-status")).to_have_text(
        "You were signed out — sign in again; your text is kept", timeout=15_000
    )
    expect(page.locator("#signed-out")).to_be_visible()
    expect(page.locator("#main")).to_be_hidden()  # the note is off the screen
    assert ExplorationStage.objects.get(session=note).precipitating_event == "Saved part."
    return note.pk, "Saved part. " + unsaved


def test_a_note_typed_across_an_expiry_is_saved_after_signing_in_again(
    page: Page, context: BrowserContext, live_server, demo
):
    base = live_server.url
    note_id, text = _type_then_expire(page, context, base)
    page.get_by_role("link", name="Sign in again").click()
    page.get_by_label("Username").fill("counselor")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/notes/{note_id}/")
    expect(page.locator("#id_exploration-precipitating_event")).to_have_value(text)
    wait_saved(page)
    assert ExplorationStage.objects.get(session_id=note_id).precipitating_event == text

    # Logging out leaves no note text (and no note key) in the browser.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base}/login/")
    stored = page.evaluate(STORED)
    assert not [k for k in stored if k.startswith("crisisnotes:")], stored
    assert not [v for v in stored.values() if "every character" in (v or "")]


def test_another_user_signing_in_on_the_same_browser_clears_the_backup(
    page: Page, context: BrowserContext, live_server, demo
):
    base = live_server.url
    _type_then_expire(page, context, base)
    assert any("every character" in (v or "") for v in page.evaluate(STORED).values())
    log_in(page, base, "supervisor")
    expect(page.get_by_test_id("current-user")).to_contain_text("Morgan Sample")
    stored = page.evaluate(STORED)
    assert not [v for v in stored.values() if "every character" in (v or "")], stored
