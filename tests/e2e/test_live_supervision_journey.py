"""Live supervision in two browsers at once: a trainee's call turns high risk and they ask for a
consult; the supervisor's live board shows it within seconds, the supervisor opens the draft
read-only and replies; the reply appears in the trainee's note without a reload; the trainee
signs (confirming in the dialog with Enter) and the note waits for co-signature; the
supervisor's bell shows it without a reload, and they co-sign (Escape cancels the dialog,
Enter confirms)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from safety.models import SupervisorNotification
from safety.services import plan_default_steps, safety_plan_save
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from tests.e2e.conftest import log_in
from tests.e2e.helpers_note import (
    fill_exploration,
    fill_follow_up,
    fill_header,
    fill_problem_solving,
    fill_rapport,
    save_now,
    wait_ready,
)
from tests.e2e.helpers_safety import answer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE = 10_000  # ms: polls run every second here; autosave waits a couple of seconds


@pytest.fixture
def fast_polls(settings) -> None:
    settings.LIVE_BOARD_POLL_SECONDS = 1
    settings.CONSULT_POLL_SECONDS = 1
    settings.NOTIFICATION_POLL_SECONDS = 1


def _page(browser: Browser, base: str, username: str) -> Page:
    page = browser.new_context(base_url=base).new_page()
    log_in(page, base, username)
    return page


def _start_session(page: Page) -> CrisisSession:
    page.get_by_role("link", name="Clients").click()
    page.keyboard.type("blue jacket")
    page.get_by_test_id("client-results").get_by_role("link", name="Caller, blue jacket").click()
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/$"))
    wait_ready(page)
    return CrisisSession.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))


def _mark_no_reload(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def _assert_no_reload(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true")


def _plan_and_followup(page: Page, note: CrisisSession) -> None:
    """The safety plan (its editor has its own journey) through the service, and a follow-up
    task due within 24 h through the note page's form."""
    trainee = User.objects.get(username="trainee")
    steps = plan_default_steps(client=note.client)
    steps.update(
        warning_signs=["Not answering texts"],
        coping=["Walk the dog"],
        environment=["Sister keeps the pills"],
    )
    steps["professionals"][-1]["phone"] = "555-010-9111"
    safety_plan_save(actor=trainee, client=note.client, steps=steps, fields={}, session=note)
    tasks = page.locator("#note-followups")
    expect(tasks.get_by_label("Due")).not_to_have_value("")
    tasks.get_by_label("Purpose").fill("Check in after the high-risk call")
    tasks.get_by_role("button", name="Add follow-up").click()
    expect(tasks.locator("[data-followup]")).to_contain_text("Check in after the high-risk call")
    note.refresh_from_db()
    assert note.followup_tasks.get().due_at <= (note.ended_at or timezone.now()) + timedelta(
        hours=24
    )


def test_supervisor_follows_a_high_risk_call_live_and_cosigns(
    browser: Browser, live_server, demo, fast_polls
) -> None:
    base = live_server.url
    supervisor = _page(browser, base, "supervisor")
    supervisor.goto(f"{base}/team/")
    supervisor.get_by_test_id("live-board-link").click()
    board = supervisor.get_by_test_id("live-board")
    expect(board).to_contain_text("No contact in progress")
    _mark_no_reload(supervisor)

    counselor = _page(browser, base, "trainee")
    note = _start_session(counselor)

    # The new contact appears on the board by itself; not yet at risk: counselor only.
    row = supervisor.locator(f"[data-testid=board-row][data-note-id='{note.pk}']")
    expect(row).to_contain_text("Caller, blue jacket", timeout=LIVE)
    expect(row).to_contain_text("Sam Placeholder")
    expect(row).to_contain_text("Counselor only")

    # The call turns high risk.
    for item in ("q1", "q2", "q3", "q4"):
        answer(counselor, item, yes=True)
    answer(counselor, "q5", yes=False)
    answer(counselor, "q6", yes=False)
    expect(counselor.locator("#cssrs-risk")).to_have_text("High")
    save_now(counselor)
    expect(row.get_by_test_id("board-screen")).to_have_text("High", timeout=LIVE)
    expect(row.get_by_role("link", name=re.compile("Open read-only"))).to_be_visible()

    # The counselor asks for a consult: the board says so.
    counselor.get_by_test_id("notify-supervisor").click()
    expect(counselor.get_by_test_id("supervisor-notification")).to_contain_text("Morgan Sample")
    expect(row.get_by_test_id("board-consult")).to_contain_text("Asked", timeout=LIVE)
    _assert_no_reload(supervisor)

    # The supervisor reads the draft, read-only, and replies.
    row.get_by_role("link", name=re.compile("Open read-only")).click()
    expect(supervisor.get_by_test_id("supervision-banner")).to_contain_text("Sam Placeholder")
    expect(supervisor.get_by_test_id("risk-levels")).to_contain_text("Screen: High")
    expect(supervisor.locator("#note-form")).to_have_count(0)
    assert AuditEvent.objects.filter(
        action=Action.SUPERVISE_VIEW, object_id=str(note.pk), actor__username="supervisor"
    ).exists()
    supervisor.get_by_label("Your reply to Sam Placeholder").fill(
        "Stay with them and ask about the pills; I am calling mobile crisis."
    )
    supervisor.get_by_role("button", name="Send reply").click()
    expect(supervisor.get_by_test_id("consult-reply")).to_contain_text("ask about the pills")

    # The counselor sees the reply in the note without reloading, typed text untouched.
    _mark_no_reload(counselor)
    counselor.locator("#id_safety-formulation-rationale").fill("Intent with a plan; pills at home.")
    expect(counselor.get_by_test_id("consult-reply")).to_contain_text(
        "ask about the pills", timeout=LIVE
    )
    _assert_no_reload(counselor)
    expect(counselor.locator("#id_safety-formulation-rationale")).to_have_value(
        "Intent with a plan; pills at home."
    )
    # The reply answered the "Notify supervisor" record (sign rule 6 sees the response).
    assert SupervisorNotification.objects.get(session=note).is_complete
    # The supervisor's read-only view follows what the counselor saves, without a reload.
    _mark_no_reload(supervisor)
    save_now(counselor)
    expect(supervisor.get_by_test_id("supervised-draft")).to_contain_text(
        "Intent with a plan; pills at home.", timeout=LIVE
    )
    _assert_no_reload(supervisor)

    # The rest of the note, then sign with the dialog: Enter confirms.
    counselor.get_by_label("Prior suicide attempt").check()
    counselor.locator("#div_id_safety-formulation-clinician_level").get_by_label("High").check()
    counselor.locator("#id_safety-means-agitation").select_option("4")
    counselor.locator("#div_id_safety-means-firearms").get_by_label("No", exact=True).check()
    counselor.locator("#div_id_safety-means-medications").get_by_label("Yes", exact=True).check()
    counselor.locator("#div_id_safety-means-other_means").get_by_label("No", exact=True).check()
    counselor.locator("#id_safety-means-means_safety_notes").fill("Sister holds the pills tonight.")
    fill_header(counselor)
    fill_exploration(counselor)
    fill_rapport(counselor)
    fill_problem_solving(counselor)
    fill_follow_up(counselor)
    counselor.locator("#id_follow_up-disposition_rationale").fill(
        "Mobile crisis visited; sister staying overnight."
    )
    save_now(counselor)
    counselor.get_by_role("button", name="End session", exact=True).click()
    expect(counselor.locator("#id_header-ended_at")).not_to_have_value("")
    wait_ready(counselor)
    note.refresh_from_db()
    _plan_and_followup(counselor, note)

    _mark_no_reload(supervisor)
    counselor.get_by_role("button", name="Sign note").click()
    dialog = counselor.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Sign note")).to_be_focused()
    counselor.keyboard.press("Enter")
    expect(counselor.get_by_test_id("note-status")).to_have_text("Awaiting co-sign")
    note.refresh_from_db()
    assert note.status == NoteStatus.AWAITING_COSIGN

    # The supervisor's bell shows the co-sign request without a reload.
    expect(supervisor.get_by_test_id("bell-latest")).to_contain_text(
        "Sam Placeholder signed a note that needs your co-signature", timeout=LIVE
    )
    _assert_no_reload(supervisor)

    # Co-sign from the notification: Escape cancels the dialog, Enter confirms.
    supervisor.get_by_test_id("notification-bell").click()
    supervisor.get_by_role("link", name=re.compile("needs your co-signature")).first.click()
    cosign = supervisor.get_by_role("button", name="Co-sign and lock")
    cosign.click()
    dialog = supervisor.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    supervisor.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cosign).to_be_focused()
    note.refresh_from_db()
    assert note.status == NoteStatus.AWAITING_COSIGN
    supervisor.keyboard.press("Enter")  # on the focused button: the dialog again
    expect(dialog).to_be_visible()
    # Enter confirms: the co-sign POST, then the review queue with its message. A page load,
    # waited for as one (the default 5 s ran out once in a loaded parallel run, and the failure
    # then only said the old page's status was still shown).
    with supervisor.expect_navigation(url=re.compile(r"/team/queue/"), timeout=LIVE):
        supervisor.keyboard.press("Enter")
    expect(supervisor.get_by_role("status").first).to_contain_text("Co-signed")
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED


def test_admin_deactivates_a_user_through_the_confirm_dialog(
    browser: Browser, live_server, demo
) -> None:
    base = live_server.url
    admin = _page(browser, base, "admin")
    admin.goto(f"{base}/clinic/users/")
    deactivate = admin.get_by_role("button", name="Deactivate Robin Example")
    deactivate.focus()
    admin.keyboard.press("Enter")
    dialog = admin.locator("#confirm-dialog")
    expect(dialog).to_contain_text("Deactivate Robin Example?")
    admin.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(deactivate).to_be_focused()
    assert User.objects.get(username="counselor").is_active
    admin.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Deactivate")).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("status").first).to_contain_text("Robin Example was deactivated")
    assert not User.objects.get(username="counselor").is_active


def test_a_closing_that_arrives_after_the_dialog_opened_again_is_not_its_answer(
    browser: Browser, live_server, demo
) -> None:
    """The dialog's close event is queued: Escape then Enter at once can open it again before
    the first closing's event arrives. That late event must not count as the new opening's
    answer (it did: the question was dropped and the confirm then did nothing)."""
    base = live_server.url
    admin = _page(browser, base, "admin")
    admin.goto(f"{base}/clinic/users/")
    deactivate = admin.get_by_role("button", name="Deactivate Robin Example")
    # Opened, closed (its close event queued) and opened again in one task: the late event
    # arrives while the second question is open.
    deactivate.evaluate(
        "b => { b.click(); document.getElementById('confirm-dialog').close(); b.click(); }"
    )
    dialog = admin.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Deactivate")).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("status").first).to_contain_text("Robin Example was deactivated")
    assert not User.objects.get(username="counselor").is_active
