"""Snippets in a real browser: the counselor types ";" and a few letters in a note field, the
clinic's matching phrases are offered, Tab inserts the first, and it is saved like typed text."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import User
from sessions.models import CrisisSession
from sessions.services.snippets import snippet_save
from tests.e2e.helpers_note import jump_to, wait_saved
from tests.e2e.test_contact_types_journey import start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_snippet_inserted_from_the_keyboard_is_saved(page: Page, live_server, demo) -> None:
    admin = User.objects.get(username="admin")
    snippet_save(
        actor=admin,
        shortcut="conf",
        text="Reviewed limits of confidentiality; client agreed to continue.",
    )
    snippet_save(actor=admin, shortcut="cope", text="Reviewed coping strategies.")
    note = start_session(page, live_server.url)
    jump_to(page, "exploration")
    field = page.locator("#id_exploration-precipitating_event")
    expect(field).to_be_focused()
    page.keyboard.type("Argument at home. ;co")
    menu = page.get_by_test_id("snippet-menu")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("option")).to_have_count(2)
    page.keyboard.type("n")  # ";con": only one left
    expect(menu.get_by_role("option")).to_have_count(1)
    page.keyboard.press("Tab")
    expect(field).to_have_value(
        "Argument at home. Reviewed limits of confidentiality; client agreed to continue."
    )
    expect(field).to_be_focused()  # Tab inserted, it did not move on
    expect(menu).to_be_hidden()
    page.keyboard.type(" Then")
    wait_saved(page)
    saved = CrisisSession.objects.get(pk=note.pk).exploration.precipitating_event
    assert saved == (
        "Argument at home. Reviewed limits of confidentiality; client agreed to continue. Then"
    )
    # Escape leaves ";" text as typed.
    page.keyboard.type(" ;cop")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(field).to_have_value(
        "Argument at home. Reviewed limits of confidentiality; client agreed to continue. Then ;cop"
    )
