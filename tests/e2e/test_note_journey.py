"""The counselor's main journey in a real browser: find a returning client, start a session,
fill every stage with the keyboard only, sign, read the locked note, add an addendum — and
nothing typed is lost when the network drops."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from sessions.models import CrisisSession, ExplorationStage, RapportStage
from sessions.models.notes import NoteStatus
from tests.e2e.conftest import log_in
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import (
    completion,
    fill_exploration,
    fill_follow_up,
    fill_header,
    fill_problem_solving,
    fill_rapport,
    fill_safety,
    save_now,
    tab,
    wait_ready,
    wait_saved,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _start_session_with_returning_client(page: Page, base: str) -> CrisisSession:
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    # The search box has the focus (its autofocus, applied at the browser's next rendering step,
    # which can come after the load: a key typed before it is lost); results come as you type.
    box = page.locator("#client-q")
    expect(box).to_be_focused()
    page.keyboard.type("night")
    expect(box).to_have_value("night")
    results = page.get_by_test_id("client-results")
    expect(results).to_contain_text("Returning caller, night shift")
    results.get_by_role("link", name="Returning caller, night shift").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("Signed")
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/$"))
    wait_ready(page)
    # A new note starts with the focus in its first stage (Safety), not on <body>.
    expect(page.locator("[data-stage-number='1'] :focus")).to_have_count(1)
    return CrisisSession.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))


def test_counselor_documents_a_session_with_the_keyboard_and_signs(page: Page, live_server, demo):
    base = live_server.url
    note = _start_session_with_returning_client(page, base)

    # Copy forward is one explicit action.
    page.get_by_role("button", name=re.compile("Copy forward")).click()
    expect(page.get_by_role("status").first).to_contain_text("Copied forward")
    expect(page.locator("#id_follow_up-supports")).to_have_value(re.compile("Sibling"))
    wait_ready(page)

    # Signing too early: back on the note's own URL (a reload won't post again), the focus on
    # the list of unmet rules, the Safety stage's first.
    page.get_by_role("button", name="Sign note").click()
    confirm(page)
    expect(page).to_have_url(re.compile(rf"/notes/{note.pk}/\?sign=1"))
    wait_ready(page)
    problems = page.get_by_test_id("sign-problems")
    expect(problems).to_be_focused()
    if page.locator("#stage-safety").count():
        expect(problems.locator("a").first).to_have_attribute("href", re.compile("^#id_safety-"))

    for key in ("exploration", "rapport", "problem_solving", "follow_up"):
        expect(completion(page, key)).not_to_have_text("Complete")

    fill_header(page)
    fill_safety(page)
    fill_exploration(page)
    save_now(page)
    expect(completion(page, "exploration")).to_have_text("Complete")
    fill_rapport(page)
    fill_problem_solving(page)
    fill_follow_up(page)
    save_now(page)
    for key in ("safety", "exploration", "rapport", "problem_solving", "follow_up"):
        if page.locator(f"#stage-{key}").count():
            expect(completion(page, key)).to_have_text("Complete")
    expect(page.locator("#stage-rapport [data-last-edited]")).to_contain_text("last edited")

    page.get_by_role("button", name="End session", exact=True).click()
    expect(page.locator("#id_header-ended_at")).not_to_have_value("")
    page.get_by_role("button", name="Sign note").click()
    confirm(page)

    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    expect(page.get_by_test_id("signer")).to_have_text("Robin Example, LPC")
    expect(page.get_by_test_id("signature")).to_contain_text("licence LPC-00417")
    expect(page.locator("#note-form")).to_have_count(0)
    expect(page.locator("#stage-exploration")).to_contain_text("Lost night-shift hours again")
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert note.exploration.suds_start == 8 and note.exploration.suds_end == 4
    given = {r["name"] for r in note.rapport.resources_given}
    # Copied forward from the last session, plus the shelter picked today.
    assert given == {
        "988 Suicide & Crisis Lifeline",
        "Northside Food Bank (demo)",
        "Harbour Night Shelter (demo)",
    }

    page.get_by_label("Correction").check()
    page.locator("#id_text").fill("SUDS at end was 5, not 4.")
    page.locator("#id_reason").fill("Misheard the rating.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_test_id("addenda")).to_contain_text("SUDS at end was 5, not 4.")
    expect(page.get_by_test_id("addenda")).to_contain_text("Robin Example")


def test_typing_offline_is_saved_when_the_network_returns(
    page: Page, context: BrowserContext, live_server, demo
):
    base = live_server.url
    note = _start_session_with_returning_client(page, base)
    field = page.locator("#id_exploration-precipitating_event")
    page.keyboard.press(
        "Alt+" + (page.locator("#stage-exploration").get_attribute("data-stage-number") or "1")
    )
    page.keyboard.type("Online part. ")
    wait_saved(page)

    context.set_offline(True)
    offline_text = "Typed while the network was down: every character counts!"
    page.keyboard.type(offline_text)
    tab(page)  # leaving the field saves at once — and fails
    expect(page.get_by_test_id("save-status")).to_contain_text("not saved — retrying")
    expect(field).to_have_value("Online part. " + offline_text)

    context.set_offline(False)
    wait_saved(page)
    saved = ExplorationStage.objects.get(session=note).precipitating_event
    assert saved == "Online part. " + offline_text


def test_two_tabs_never_overwrite_each_other(
    page: Page, context: BrowserContext, live_server, demo
):
    base = live_server.url
    note = _start_session_with_returning_client(page, base)
    other_tab = context.new_page()
    other_tab.goto(f"{base}/notes/{note.pk}/")
    wait_ready(other_tab)

    # The first tab saves; the second, still at the old version, is refused and keeps its text.
    page.locator("#id_rapport-engagement_notes").press_sequentially("From the first tab.")
    save_now(page)
    mine = other_tab.locator("#id_rapport-validation_notes")
    mine.press_sequentially("Typed in the second tab.")
    other_tab.keyboard.press("Control+s")
    expect(other_tab.get_by_test_id("js-conflict")).to_contain_text("another tab")
    expect(other_tab.get_by_test_id("save-status")).to_have_text("not saved — conflict")
    expect(mine).to_have_value("Typed in the second tab.")
    assert RapportStage.objects.get(session=note).validation_notes == ""

    # Loading the latest keeps a copy of what was typed, beside the saved note.
    other_tab.get_by_role("button", name="Load the latest and keep a copy of my text").click()
    expect(other_tab.locator("#id_rapport-engagement_notes")).to_have_value("From the first tab.")
    expect(other_tab.get_by_test_id("conflict-copy")).to_contain_text("Typed in the second tab.")


def test_unsaved_text_is_restored_from_the_browser_after_a_reload(page: Page, live_server, demo):
    base = live_server.url
    note = _start_session_with_returning_client(page, base)
    # The server never hears of this text (every save fails) before the page is reloaded.
    page.route("**/save/", lambda route: route.abort())
    field = page.locator("#id_problem_solving-action_plan")
    field.press_sequentially("Call the landlord Monday at 10.")
    expect(page.get_by_test_id("save-status")).to_contain_text("not saved — retrying")
    page.unroute("**/save/")
    page.reload()
    wait_ready(page)
    expect(field).to_have_value("Call the landlord Monday at 10.")
    wait_saved(page)
    note.refresh_from_db()
    assert note.problem_solving.action_plan == "Call the landlord Monday at 10."
