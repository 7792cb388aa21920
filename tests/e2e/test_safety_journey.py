"""The high-risk journey in a real browser: the counselor answers the C-SSRS (items skip, the
risk appears as soon as it is determined), is blocked from signing with the high-risk rules
listed, notifies the supervisor (who responds from their notification), builds a safety plan
with all six steps, adds the follow-up and signs."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from safety.models import SafetyPlanVersion, SupervisorNotification
from sessions.models import CrisisSession, FollowUpTask
from sessions.models.notes import NoteStatus
from tests.e2e.conftest import log_in
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import (
    fill_exploration,
    fill_follow_up,
    fill_header,
    fill_problem_solving,
    fill_rapport,
    save_now,
)
from tests.e2e.helpers_safety import answer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def row(page: Page, item: str):
    return page.locator(f"#cssrs-row-{item}")


def start_session(page: Page, base: str) -> CrisisSession:
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    page.keyboard.type("blue jacket")
    page.get_by_test_id("client-results").get_by_role("link", name="Caller, blue jacket").click()
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/$"))
    return CrisisSession.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))


def test_counselor_documents_a_high_risk_session_and_signs(
    page: Page, browser: Browser, live_server, demo
) -> None:
    base = live_server.url
    note = start_session(page, base)
    risk = page.locator("#cssrs-risk")

    # Only 1 and 2 are asked at first; 6b never until 6 = yes.
    expect(row(page, "q1")).to_be_visible()
    for item in ("q3", "q4", "q5", "q6", "q6b"):
        expect(row(page, item)).to_be_hidden()
    expect(risk).to_have_text("not determined yet")
    answer(page, "q1", yes=True)
    expect(risk).to_have_text("at least Low so far")
    answer(page, "q2", yes=False)
    expect(row(page, "q6")).to_be_visible()
    expect(row(page, "q3")).to_be_hidden()
    answer(page, "q6", yes=True)
    expect(row(page, "q6b")).to_be_visible()
    answer(page, "q6b", yes=False)
    expect(risk).to_have_text("Moderate")
    # Changing 2 to yes brings 3–5 in; 4 = yes decides "high" before 5 is answered.
    answer(page, "q2", yes=True)
    expect(row(page, "q3")).to_be_visible()
    # 6 = yes already makes it at least moderate; 4 or 5 could still make it high.
    expect(risk).to_have_text("at least Moderate so far")
    answer(page, "q3", yes=True)
    answer(page, "q4", yes=True)
    expect(risk).to_have_text("High")
    answer(page, "q5", yes=False)
    # 6 = no hides and clears 6b.
    page.locator("#id_safety-screen-q6_no").check()
    expect(row(page, "q6b")).to_be_hidden()
    expect(page.locator("#id_safety-screen-q6b_no")).not_to_be_checked()

    page.get_by_label("Prior suicide attempt").check()
    page.locator("#div_id_safety-formulation-clinician_level").get_by_label("High").check()
    page.locator("#id_safety-formulation-rationale").fill(
        "Thoughts with intent, recent job loss, pills at home."
    )
    page.locator("#id_safety-means-agitation").select_option("4")
    page.locator("#div_id_safety-means-firearms").get_by_label("No", exact=True).check()
    page.locator("#div_id_safety-means-medications").get_by_label("Yes", exact=True).check()
    page.locator("#div_id_safety-means-other_means").get_by_label("No", exact=True).check()
    page.locator("#id_safety-means-means_safety_notes").fill("Sister will hold the pills tonight.")

    fill_header(page)
    fill_exploration(page)
    fill_rapport(page)
    fill_problem_solving(page)
    fill_follow_up(page)
    page.locator("#id_follow_up-disposition_rationale").fill(
        "Sister staying overnight; means removed; agrees to call 988."
    )
    save_now(page)
    note.refresh_from_db()
    assert (note.screen_risk, note.clinician_risk) == ("high", "high")
    page.get_by_role("button", name="End session", exact=True).click()
    expect(page.locator("#id_header-ended_at")).not_to_have_value("")

    # Blocked, with the high-risk rules listed and linked.
    page.get_by_role("button", name="Sign note").click()
    confirm(page)
    problems = page.get_by_test_id("sign-problems")
    expect(problems).to_contain_text("notify your supervisor")
    expect(problems).to_contain_text("safety plan")
    expect(problems).to_contain_text("follow-up task due within 24 hours")
    expect(problems.locator("a[href='#safety-supervisor']")).to_have_count(1)
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT

    # One click notifies the supervisor; they respond from their notification.
    page.get_by_test_id("notify-supervisor").click()
    expect(page.get_by_test_id("supervisor-notification")).to_contain_text("Morgan Sample, LCSW")
    expect(page.get_by_test_id("supervisor-notification")).to_contain_text("waiting")
    supervisor_page = browser.new_context(base_url=base).new_page()
    log_in(supervisor_page, base, "supervisor")
    supervisor_page.goto(f"{base}/notifications/")
    supervisor_page.get_by_role("link", name=re.compile("consult on a high-risk session")).click()
    supervisor_page.get_by_label("Your response").fill("Agree with the plan; call me back in 1 h.")
    supervisor_page.get_by_role("button", name="Record my response").click()
    expect(supervisor_page.get_by_role("status").first).to_contain_text("recorded")
    supervisor_page.context.close()
    # The counselor's panel picks the response up by itself (it polls while waiting).
    expect(page.get_by_test_id("supervisor-notification")).to_contain_text(
        "call me back in 1 h", timeout=15_000
    )

    # The safety plan, from inside the session: six steps, step 5 pre-filled.
    save_now(page)
    page.get_by_test_id("safety-plan-edit").click()
    expect(page.locator("#professionals-phone-1")).to_have_value("988")
    page.get_by_label("Step 1: Warning signs").fill("Not answering texts\nCan't sleep")
    page.get_by_label("Step 2: Internal coping strategies").fill("Walk the dog by the harbour")
    page.locator("#distraction-name-1").fill("Night café on Quay St")
    page.locator("#help-name-1").fill("Sister Jo (invented)")
    page.locator("#help-phone-1").fill("555-010-3344")
    # More rows than the two spare ones, without saving and reopening.
    expect(page.locator("#help-name-3")).to_have_count(0)
    page.locator("#plan-help").get_by_role("button", name="Add another").click()
    expect(page.locator("#help-name-3")).to_be_focused()
    page.locator("#help-name-3").fill("Neighbour Sam (invented)")
    expect(page.locator("#professionals-name-3")).to_have_value("Nearest emergency department")
    page.locator("#professionals-phone-3").fill("555-010-9111")
    page.get_by_label("Step 6: Making the environment safe").fill("Sister keeps the pills")
    page.get_by_label("The one thing that is most important to me").fill("My dog, Biscuit")
    page.get_by_label("How likely is the client to use this plan?").select_option("8")
    page.get_by_label("A copy was given to the client").check()
    page.get_by_role("button", name="Save safety plan").click()
    expect(page).to_have_url(re.compile(rf"/notes/{note.pk}/"))
    expect(page.locator("#safety-plan")).to_contain_text("Active")
    plan = SafetyPlanVersion.objects.get(client=note.client)
    assert plan.session_id == note.pk and plan.is_active
    assert [len(plan.entries(step)) for step, *_ in plan.step_list] == [2, 1, 1, 2, 3, 1]
    assert plan.entries("help")[1] == {"name": "Neighbour Sam (invented)", "phone": ""}
    assert {"name": "Nearest emergency department", "phone": "555-010-9111"} in plan.entries(
        "professionals"
    )

    # The follow-up task, from the note page.
    note.refresh_from_db()
    add_followup(page, note)

    page.get_by_role("button", name="Sign note").click()
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    expect(page.locator("#stage-safety")).to_contain_text(
        "Have you had these thoughts and had some intention of acting on them?"
    )
    expect(page.locator("#stage-safety")).to_contain_text("call me back in 1 h")
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert SupervisorNotification.objects.get(session=note).is_complete


def add_followup(page: Page, note: CrisisSession) -> None:
    """Through the follow-up tasks' form on the note page: its due time is pre-filled from the
    clinic's policy for this risk level (24 h after the session ended)."""
    tasks = page.locator("#note-followups")
    expect(tasks.get_by_label("Due")).not_to_have_value("")
    tasks.get_by_label("Purpose").fill("Check in after the high-risk call")
    tasks.get_by_role("button", name="Add follow-up").click()
    expect(tasks.locator("[data-followup]")).to_contain_text("Check in after the high-risk call")
    task = FollowUpTask.objects.get(session=note)
    assert note.ended_at is not None
    assert task.due_at <= note.ended_at + timedelta(hours=24)
