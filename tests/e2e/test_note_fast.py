"""Fast to write, in a real browser: "End session and sign" is one action whose unmet rules
appear in place and update live; Alt+N jumps to the next unmet field; the follow-up task's due
time and assignee follow the risk live; the save status stays in view."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_safety import answer
from tests.e2e.test_contact_types_journey import choose_type, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_end_and_sign_lists_what_is_missing_in_place_and_updates_it_live(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    choose_type(page, "w", "wrong_number")
    url = page.url
    page.locator("#end-sign-button").click()
    confirm(page)
    live = page.get_by_test_id("sign-live")
    expect(live).to_be_visible()
    expect(live).to_contain_text("1 thing to complete")
    expect(live).to_contain_text("Wrong number or non-crisis call: write one line about it.")
    assert page.url == url  # in place: no reload
    expect(page.locator("#id_header-ended_at")).not_to_have_value("")  # the clock stopped
    # Alt+N: straight to the field that is missing.
    page.keyboard.press("Alt+n")
    expect(page.locator("#id_header-contact_summary")).to_be_focused()
    page.keyboard.type("Asked for the pharmacy on Main Street.")
    # The next autosave brings the list up to date, without a reload.
    expect(live).to_contain_text("Nothing missing", timeout=10_000)
    page.locator("#end-sign-button").click()
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.SIGNED


def test_follow_up_due_time_and_assignee_follow_the_risk_live(
    page: Page, live_server, demo
) -> None:
    start_session(page, live_server.url)
    form = page.locator("#note-form")
    now = datetime.strptime(form.get_attribute("data-server-now") or "", "%Y-%m-%dT%H:%M")
    high = int(form.get_attribute("data-due-hours-high") or 0)
    moderate = int(form.get_attribute("data-due-hours-moderate") or 0)
    due = page.locator("#id_followup-due_at")
    assignee = page.locator("#id_followup-assigned_to")
    expect(due).to_have_value("")

    def due_hours() -> float:
        value = due.input_value()
        return (datetime.strptime(value, "%Y-%m-%dT%H:%M") - now) / timedelta(hours=1)

    for item in ("q1", "q2", "q3"):
        answer(page, item, yes=True)
    answer(page, "q4", yes=True)
    expect(page.locator("#cssrs-risk")).to_have_text("High")
    expect(due).not_to_have_value("")
    assert high - 0.1 <= due_hours() <= high + 0.2
    expect(assignee).to_have_value(form.get_attribute("data-author-id") or "")
    # The clinician's level governs once chosen.
    before = due.input_value()
    page.locator("#id_safety-formulation-clinician_level_1").check()  # moderate
    page.wait_for_function(
        "(old) => document.getElementById('id_followup-due_at').value !== old", arg=before
    )
    assert moderate - 0.1 <= due_hours() <= moderate + 0.2
    # A due time typed by the counselor is theirs: the risk no longer moves it.
    due.fill("2030-01-01T09:00")
    page.locator("#id_safety-formulation-clinician_level_2").check()  # high
    expect(due).to_have_value("2030-01-01T09:00")


def test_save_status_stays_in_view_at_the_bottom_of_the_page(page: Page, live_server, demo) -> None:
    start_session(page, live_server.url)
    page.locator("#end-sign-button").scroll_into_view_if_needed()
    page.mouse.wheel(0, 20_000)
    expect(page.get_by_test_id("save-status")).to_be_in_viewport()


def test_badges_updated_by_the_page_are_what_the_server_renders(
    page: Page, live_server, demo
) -> None:
    """The autosave brings each stage's badge and "last edited" line rendered by the server's
    partials; after a reload the server renders the very same markup."""
    start_session(page, live_server.url)
    stage = page.locator("#stage-exploration")
    badge = stage.locator(".completion-badge")
    expect(badge).to_have_text("Empty")
    expect(stage.locator("[data-last-edited]")).to_have_text("")
    page.locator("#id_exploration-precipitating_event").fill("Argument with a flatmate.")
    page.keyboard.press("Control+s")
    expect(badge).to_have_text("In progress", timeout=10_000)
    expect(stage.locator("[data-last-edited]")).to_contain_text("last edited ")
    live = stage.locator(".card-header").evaluate("el => el.innerHTML.replace(/\\s+/g, ' ')")
    page.reload()
    served = stage.locator(".card-header").evaluate("el => el.innerHTML.replace(/\\s+/g, ' ')")
    assert live == served


def test_every_question_asked_no_with_one_key_keeps_a_yes(page: Page, live_server, demo) -> None:
    """The all-No screen in one key: each asked, unanswered item gets No (2 = No brings 6 in,
    which gets No too); an answer already given stays."""
    start_session(page, live_server.url)
    button = page.get_by_test_id("cssrs-all-no")
    answer(page, "q1", yes=True)
    button.focus()
    page.keyboard.press("Space")
    expect(page.locator("#id_safety-screen-q1")).to_be_checked()
    for item in ("q2", "q6"):
        expect(page.locator(f"#id_safety-screen-{item}_no")).to_be_checked()
    for item in ("q3", "q4", "q5", "q6b"):
        expect(page.locator(f"#cssrs-row-{item}")).to_be_hidden()
    expect(page.locator("#cssrs-risk")).to_have_text("Low")
    # 2 changed to Yes brings 3–5 in, unanswered: one key answers them No, 6 keeps its No.
    answer(page, "q2", yes=True)
    button.focus()
    page.keyboard.press("Space")
    for item in ("q3", "q4", "q5", "q6"):
        expect(page.locator(f"#id_safety-screen-{item}_no")).to_be_checked()
    expect(page.locator("#id_safety-screen-q2")).to_be_checked()
    expect(page.locator("#cssrs-risk")).to_have_text("Low")
