"""The safety plan inside the note, in a real browser: created in the Safety stage's panel and the
note signed, all on the page as first loaded; reviewed in place (a new version, the old one kept).
Keyboard only inside the panel. Its controls belong to the panel's own form, so the note's
autosave never carries them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import User
from safety.models import SafetyPlanVersion
from safety.selectors import plan_in_force
from safety.services import plan_default_steps, safety_plan_save
from sessions.models import Client, CrisisSession
from sessions.models.notes import NoteStatus
from sessions.services.signing import note_content_hash
from tests.e2e.helpers_confirm import confirm
from tests.e2e.test_contact_types_journey import choose_type, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ALIAS = "Caller, blue jacket"


def count_loads(page: Page) -> list[str]:
    """Every full page load from now on (the page's own load events). The page in hand may still
    be loading its last resources (a loaded machine): its own load event is not counted."""
    page.wait_for_load_state("load")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    return loads


def open_panel(page: Page) -> None:
    """Keyboard: the panel's button (a link; Enter opens the editor in place, focus in it)."""
    page.get_by_test_id("safety-plan-edit").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Step 1: Warning signs")).to_be_focused()


def test_a_plan_created_in_the_note_then_the_note_signed_on_one_page_load(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url, ALIAS)
    loads = count_loads(page)
    expect(page.get_by_test_id("safety-plan-panel")).to_contain_text("no safety plan yet")

    open_panel(page)
    # The panel's controls are not the note's: the note's form (and its autosave) leaves them out.
    assert page.evaluate(
        "!new FormData(document.getElementById('note-form')).has('warning_signs') && "
        "document.querySelector('[name=warning_signs]').form.id === 'safety-plan-panel-form'"
    )
    expect(page.locator("#professionals-phone-1")).to_have_value("988")
    page.keyboard.type("Stops answering texts")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Step 2: Internal coping strategies")).to_be_focused()
    page.keyboard.type("Walks the dog")
    page.locator("#help-name-1").focus()
    page.keyboard.type("Sister Jo (invented)")
    page.get_by_label("Step 6: Making the environment safe").focus()
    page.keyboard.type("Sister keeps the pills")
    page.get_by_test_id("safety-plan-save").focus()
    page.keyboard.press("Enter")

    status = page.get_by_test_id("safety-plan-status")
    expect(status).to_have_text("Safety plan version 1 saved; it is active.")
    expect(status).to_be_focused()
    expect(page.get_by_test_id("safety-plan-panel")).to_contain_text("(saved in this session)")
    plan = SafetyPlanVersion.objects.get(client__alias=ALIAS)
    assert (plan.number, plan.session_id, plan.is_active) == (1, note.pk, True)
    assert plan.entries("warning_signs") == ["Stops answering texts"]

    # Then the note, signed from the same page.
    choose_type(page, "w", "wrong_number")
    page.locator("#id_header-contact_summary").fill("Asked for the pharmacy; plan reviewed.")
    page.locator("#end-sign-button").click()
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    # No page was loaded, not even for the signed note: it is shown in place, at its address.
    assert loads == []
    assert page.url.rstrip("/").endswith(f"/notes/{note.pk}")
    signed = CrisisSession.objects.get(pk=note.pk)
    assert signed.status == NoteStatus.SIGNED
    assert plan_in_force(note=signed) == plan
    assert signed.content_hash == note_content_hash(signed)


def test_a_plan_reviewed_in_the_note_is_a_new_version_and_the_old_one_stays(
    page: Page, live_server, demo
) -> None:
    client = Client.objects.get(alias=ALIAS)
    steps = plan_default_steps(client=client)
    steps.update(warning_signs=["Can't sleep"], coping=["Music"], environment=["No pills"])
    counselor = User.objects.get(username="counselor")
    first, _ = safety_plan_save(actor=counselor, client=client, steps=steps, fields={})
    note = start_session(page, live_server.url, ALIAS)
    loads = count_loads(page)
    panel = page.get_by_test_id("safety-plan-panel")
    expect(panel).to_contain_text("Version 1")
    expect(page.get_by_test_id("safety-plan-edit")).to_have_text("Review or update the safety plan")

    open_panel(page)
    expect(panel).to_contain_text("Reviewing version 1")
    field = page.get_by_label("Step 1: Warning signs")
    expect(field).to_have_value("Can't sleep")
    page.keyboard.press("End")
    page.keyboard.type("\nGives things away")
    page.get_by_test_id("safety-plan-save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("safety-plan-status")).to_have_text(
        "Safety plan version 2 saved; it is active."
    )
    # htmx gives the swapped-in panel its behaviour a settle delay after the text appears (and
    # then plan_rows.js moves the focus): until then Enter on the button would follow the plain
    # link to the editor page, as without script. The focus on the message says it is ready.
    expect(page.get_by_test_id("safety-plan-status")).to_be_focused()
    expect(panel).to_contain_text("Version 2")

    # Reopened and saved unchanged: no new version.
    open_panel(page)
    page.get_by_test_id("safety-plan-save").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("safety-plan-status")).to_have_text(
        "No changes: version 2 stays in force."
    )
    assert loads == []
    versions = list(SafetyPlanVersion.objects.filter(client=client).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].entries("warning_signs") == ["Can't sleep"] == first.entries("warning_signs")
    assert versions[1].entries("warning_signs") == ["Can't sleep", "Gives things away"]
    assert versions[1].session_id == note.pk
