"""Shift handoff in a real browser: the counselor types, hands the open draft to a colleague
(nothing typed is lost), the colleague finishes and signs; both names and the time are on the
record."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from sessions.models import CrisisSession
from tests.e2e.conftest import log_in
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import wait_ready
from tests.e2e.test_contact_types_journey import choose_type, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_counselor_hands_a_draft_to_a_colleague_who_signs_it(
    page: Page, browser: Browser, live_server, demo
) -> None:
    base = live_server.url
    note = start_session(page, base)
    choose_type(page, "w", "wrong_number")
    page.locator("#id_header-contact_summary").fill("Caller wanted the pharmacy; shift ending.")
    page.locator("#handoff-to").select_option(label="Morgan Sample")
    page.locator("#handoff-button").click()
    expect(page.get_by_text("Handed to Morgan Sample")).to_be_visible()
    note = CrisisSession.objects.get(pk=note.pk)
    assert note.author.username == "supervisor"
    assert note.contact_summary == "Caller wanted the pharmacy; shift ending."

    context = browser.new_context()
    colleague = context.new_page()
    log_in(colleague, base, "supervisor")
    colleague.goto(f"{base}/notes/{note.pk}/")
    wait_ready(colleague)
    expect(colleague.get_by_test_id("handoffs")).to_contain_text(
        "Handed from Robin Example to Morgan Sample"
    )
    expect(colleague.locator("#id_header-contact_summary")).to_have_value(
        "Caller wanted the pharmacy; shift ending."
    )
    colleague.locator("#end-sign-button").click()
    confirm(colleague)
    expect(colleague.get_by_test_id("note-status")).to_have_text("Signed")
    expect(colleague.get_by_test_id("handoff")).to_contain_text(
        "from Robin Example to Morgan Sample"
    )
    context.close()
