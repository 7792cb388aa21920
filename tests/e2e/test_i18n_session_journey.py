"""A counselor who reads the app in Spanish documents a whole session in a real browser: every
page they see is in Spanish (texts taken from the catalogue, so a missing translation fails
here), the C-SSRS items of an English-speaking client stay in English, and the note signs."""

from __future__ import annotations

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import User
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import (
    fill_exploration,
    fill_follow_up,
    fill_header,
    fill_problem_solving,
    fill_rapport,
    fill_safety,
    wait_ready,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def es(text: str) -> str:
    """The Spanish of an English text, from the compiled catalogue; never the English itself."""
    with translation.override("es"):
        spanish = translation.gettext(text)
    assert spanish != text, f"no Spanish for {text!r}"
    return spanish


def save(page: Page) -> None:
    with page.expect_response(lambda r: "/save/" in r.url and r.ok):
        page.keyboard.press("Control+s")


def test_spanish_counselor_documents_a_whole_session(page: Page, live_server, demo) -> None:
    User.objects.filter(username="counselor").update(language="es")
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "es-MX,es;q=0.9"})
    page.goto(f"{base}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(es("Log in to crisisnotes"))
    page.locator("input[name=login]").fill("counselor")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=es("Log in")).click()

    page.get_by_role("link", name=es("Clients"), exact=True).click()
    page.keyboard.type("blue jacket")
    page.get_by_test_id("client-results").get_by_role("link", name="Caller, blue jacket").click()
    page.get_by_role("button", name=es("Start session")).click()
    wait_ready(page)
    note = CrisisSession.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    expect(page.get_by_role("button", name=es("Log out"))).to_be_visible()
    # The counselor reads Spanish; the client speaks English, so the items are the instrument's.
    expect(page.locator("#cssrs-row-q1 [data-cssrs-text]")).to_have_text(
        "Have you wished you were dead or wished you could go to sleep and not wake up?"
    )
    expect(page.locator("#safety-cssrs")).to_contain_text(es("Ask the questions as written."))
    expect(page.locator("#stage-exploration")).to_contain_text(es("Exploration & de-escalation"))
    expect(page.locator("#end-sign-button")).to_have_text(es("End session and sign"))

    fill_header(page)
    fill_safety(page)
    fill_exploration(page)
    save(page)
    fill_rapport(page)
    fill_problem_solving(page)
    fill_follow_up(page)
    save(page)

    page.locator("#end-sign-button").click()
    confirm(page)
    with translation.override("es"):
        signed = str(NoteStatus.SIGNED.label)
    expect(page.get_by_test_id("note-status")).to_have_text(signed)
    assert signed != "Signed"
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert note.exploration.suds_start == 8
