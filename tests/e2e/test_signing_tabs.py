"""Two tabs on one draft in a real browser: one types, the other signs. Whichever order the
server sees, the signed record is exactly what is stored (it verifies), and the text typed in
the losing tab stays on its page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from sessions.hashing import note_verify
from sessions.models import CrisisSession, RapportStage
from sessions.models.notes import NoteStatus
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import (
    fill_exploration,
    fill_follow_up,
    fill_header,
    fill_problem_solving,
    fill_rapport,
    fill_safety,
    save_now,
    wait_ready,
    wait_saved,
)
from tests.e2e.test_note_journey import _start_session_with_returning_client
from tests.sessions.note_helpers import reload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _ready_to_sign(page: Page) -> None:
    fill_header(page)
    fill_safety(page)
    fill_exploration(page)
    fill_rapport(page)
    fill_problem_solving(page)
    fill_follow_up(page)
    save_now(page)
    page.get_by_role("button", name="End session", exact=True).click()
    expect(page.locator("#id_header-ended_at")).not_to_have_value("")
    wait_ready(page)


def _assert_verifies(note: CrisisSession) -> None:
    stored = reload(note)
    assert stored.status == NoteStatus.SIGNED
    check = note_verify(note=stored)
    assert check is not None and check.ok, check


def test_one_tab_types_while_the_other_signs(
    page: Page, context: BrowserContext, live_server, demo
):
    note = _start_session_with_returning_client(page, live_server.url)
    _ready_to_sign(page)
    typing = context.new_page()
    typing.goto(f"{live_server.url}/notes/{note.pk}/")
    wait_ready(typing)

    # The typing tab's text is still waiting for its autosave when the other tab signs.
    field = typing.locator("#id_rapport-validation_notes")
    field.press_sequentially(" Typed in the other tab while signing.")
    page.get_by_role("button", name="Sign note").click()
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    expect(page.get_by_test_id("record-verification")).to_have_text(
        re.compile("Record verified: content hash matches")
    )

    # Its autosave is refused as "already signed"; the text stays on its page, unsaved.
    expect(typing.get_by_test_id("save-status")).to_have_text(
        "not saved — the note was signed", timeout=10_000
    )
    expect(typing.get_by_test_id("js-conflict")).to_contain_text("already signed")
    expect(typing.get_by_test_id("js-conflict")).to_contain_text("addendum")
    expect(typing.locator("#load-latest")).to_be_hidden()
    expect(field).to_have_value(re.compile("Typed in the other tab while signing."))
    assert "Typed in the other tab" not in RapportStage.objects.get(session=note).validation_notes
    _assert_verifies(note)


def test_a_tab_that_saved_first_is_what_gets_signed(
    page: Page, context: BrowserContext, live_server, demo
):
    note = _start_session_with_returning_client(page, live_server.url)
    _ready_to_sign(page)
    typing = context.new_page()
    typing.goto(f"{live_server.url}/notes/{note.pk}/")
    wait_ready(typing)

    typing.locator("#id_rapport-validation_notes").press_sequentially(" Saved from tab two.")
    typing.keyboard.press("Control+s")
    wait_saved(typing)

    # The signing tab is a version behind: its Sign is a conflict, nothing signed, its page kept.
    page.get_by_role("button", name="Sign note").click()
    confirm(page)
    expect(page.get_by_test_id("conflict")).to_contain_text("another tab")
    assert reload(note).status == NoteStatus.DRAFT

    # Loading the latest and signing signs what tab two saved, and the record verifies.
    page.goto(f"{live_server.url}/notes/{note.pk}/")
    wait_ready(page)
    expect(page.locator("#id_rapport-validation_notes")).to_have_value(
        re.compile("Saved from tab two.")
    )
    page.get_by_role("button", name="Sign note").click()
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    expect(page.get_by_test_id("record-verification")).to_have_attribute("data-verified", "yes")
    assert "Saved from tab two." in RapportStage.objects.get(session=note).validation_notes
    _assert_verifies(note)
