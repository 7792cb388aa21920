"""A supervisor consulted by phone: the counselor records who, when, how and the response from
inside the note page (htmx, without leaving the page or losing what was typed)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from safety.models import SupervisorNotification
from tests.e2e.conftest import log_in
from tests.e2e.helpers_note import save_now

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_counselor_records_a_phone_consultation_on_the_note_page(
    page: Page, live_server, demo
) -> None:
    base = live_server.url
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    page.keyboard.type("blue jacket")
    page.get_by_test_id("client-results").get_by_role("link", name="Caller, blue jacket").click()
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/$"))

    # No C-SSRS answer yet: the SAFE-T formulation is one line until opened.
    page.get_by_test_id("formulation-summary").click()
    page.locator("#id_safety-formulation-rationale").fill("Typed before the consultation.")
    page.get_by_text("Record a notification made by phone or in person").click()
    record = page.locator("#safety-supervisor-record")
    record.locator("#id_supervisor-record-supervisor").select_option(label="Morgan Sample")
    record.locator("#id_supervisor-record-method").select_option("phone")
    record.get_by_label("Supervisor's response").fill("Send mobile crisis; call me after.")
    record.get_by_role("button", name="Record notification").click()

    expect(page.get_by_test_id("supervisor-notification")).to_contain_text(
        "Send mobile crisis; call me after."
    )
    expect(page.locator("#id_safety-formulation-rationale")).to_have_value(
        "Typed before the consultation."
    )
    save_now(page)  # the note still saves: the record form adds no required fields to it
    saved = SupervisorNotification.objects.get()
    assert saved.method == "phone" and saved.is_complete
    assert saved.session.risk_formulation.rationale == "Typed before the consultation."
