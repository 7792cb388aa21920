"""Contacts that are not a full, cooperative session, documented honestly in a real browser:
a hang-up with stated intent and emergency dispatch (signed with coded reasons, shown in the
supervisor's queue and in the PDF), a third-party call, and a transfer to the ED without a
safety plan. The contact type is chosen with one key (Alt+T, then its letter)."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from crisisnotes.accounts.models import User
from sessions.models import CrisisSession
from sessions.models.notes import ContactType, NoteStatus
from sessions.services.exports import record_pdf
from tests.e2e.conftest import log_in
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import save_now, wait_ready
from tests.e2e.helpers_safety import answer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def start_session(page: Page, base: str, alias: str = "Caller, blue jacket") -> CrisisSession:
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    page.keyboard.type(alias.split(",")[0].lower())
    page.get_by_test_id("client-results").get_by_role("link", name=alias).click()
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/$"))
    wait_ready(page)
    return CrisisSession.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))


def choose_type(page: Page, key: str, value: str) -> None:
    """One keystroke: Alt+T focuses the contact type, the letter picks it."""
    page.keyboard.press("Alt+t")
    page.keyboard.press(key)
    expect(page.locator(f"#contact-type input[value={value}]")).to_be_checked()


def pdf_text(note: CrisisSession) -> str:
    note = CrisisSession.objects.get(pk=note.pk)
    reader = PdfReader(io.BytesIO(record_pdf(note=note, generated_by=None)))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def end_and_sign(page: Page) -> None:
    save_now(page)
    page.locator("[data-action=end]").click()
    # The reloaded page has the end time (the old page would post an empty one).
    expect(page.locator("#id_header-ended_at")).not_to_have_value("")
    wait_ready(page)
    page.locator("#sign-button").click()
    confirm(page)


def test_hang_up_with_stated_intent_and_dispatch_is_signed_with_reasons(
    page: Page, browser: Browser, live_server, demo
) -> None:
    base = live_server.url
    note = start_session(page, base)
    details = page.locator("[data-contact-show='disconnected silent wrong_number']")
    expect(details).to_be_hidden()
    choose_type(page, "d", ContactType.DISCONNECTED)
    expect(details).to_be_visible()
    # The confidentiality attestation is not asked of a 20-second hang-up (still shown: it may
    # have been explained before the line went dead, but it is not required).
    page.locator("#id_header-contact_summary").fill(
        "Said he has his pills counted out and 'tonight is the night', then hung up."
    )
    page.locator("#id_header-intent_stated").check()
    page.locator("#id_header-after_disconnect").fill(
        "Called back 21:04 and 21:06, no answer. Dispatched emergency services 21:07 "
        "(stated intent, means at hand)."
    )
    # What was reached of the screen, then why the rest could not be asked.
    answer(page, "q1", yes=True)
    answer(page, "q2", yes=True)
    page.get_by_text("The screen could not be completed").click()
    page.locator("#id_safety-screen-not_done_reason").select_option("hung_up")
    page.locator("#id_safety-screen-not_done_text").fill("not reached — call ended")
    # A yes opened the SAFE-T formulation by itself.
    expect(page.locator("#safety-formulation-details")).to_have_attribute("open", "")
    page.locator("#id_safety-formulation-clinician_level_2").check()  # high
    page.locator("#id_safety-formulation-rationale").fill(
        "Stated intent with means at hand before hanging up."
    )
    page.locator("#id_safety-formulation-plan_not_done_reason").select_option("hung_up")
    page.locator("#id_safety-means-means_not_done_reason").select_option("hung_up")
    page.locator("#id_safety-formulation-supervisor_not_done_reason").select_option(
        "emergency_services"
    )
    page.locator("#id_safety-formulation-supervisor_not_done_text").fill(
        "Dispatch took over at 21:07; supervisor briefed afterwards."
    )
    page.locator("#id_follow_up-task_not_done_reason").select_option("emergency_services")
    end_and_sign(page)

    expect(page.get_by_test_id("note-status")).to_have_text("Awaiting co-sign")
    note.refresh_from_db()
    assert note.status == NoteStatus.AWAITING_COSIGN
    assert note.contact_type == ContactType.DISCONNECTED and note.intent_stated
    assert not note.confidentiality_explained
    assert "High risk signed with reasons" in note.cosign_required_reason
    reasons = page.get_by_test_id("coded-reasons")
    expect(reasons).to_contain_text("Safety plan: Call disconnected")
    expect(reasons).to_contain_text(
        "Supervisor response: Emergency services dispatched / took over — Dispatch took over"
    )

    # The supervisor's queue says why, and the supervisor co-signs.
    context = browser.new_context(base_url=base)
    supervisor_page = context.new_page()
    log_in(supervisor_page, base, "supervisor")
    supervisor_page.goto(f"{base}/team/queue/")
    queue = supervisor_page.get_by_test_id("review-queue")
    expect(queue).to_contain_text("Follow-up task (Emergency services dispatched / took over)")
    queue.get_by_role("link", name="Caller, blue jacket").first.click()
    supervisor_page.get_by_role("button", name="Co-sign and lock").click()
    confirm(supervisor_page)
    supervisor_page.wait_for_url(re.compile(r"/team/queue/"))
    context.close()
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and note.cosigned_at is not None

    text = pdf_text(note)
    for expected in (
        "Disconnected / hung up",
        "tonight is the night",
        "Dispatched emergency services 21:07",
        "Required actions not done, with the reason",
        "Safety plan: Call disconnected",
        "Means-safety questions: Call disconnected",
        "C-SSRS screen: Call disconnected — not reached — call ended",
        "Follow-up task: Emergency services dispatched / took over",
    ):
        assert expected in text, expected


def test_third_party_call_documents_the_caller_and_marks_answers_as_reported(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    marker = page.locator("#stage-safety [data-testid=as-reported]")
    expect(marker).to_be_hidden()
    choose_type(page, "t", ContactType.THIRD_PARTY)
    expect(marker).to_be_visible()
    expect(page.locator("[data-contact-show=third_party]").first).to_contain_text(
        "Caller, blue jacket"
    )
    page.locator("#id_header-caller_relationship").fill("Father")
    page.locator("#id_header-caller_contact").fill("555-010-7788")
    page.locator("#id_header-person_present").select_option("no")
    page.locator("#id_header-caller_advice").fill(
        "Go to his flat with his sister; call 911 if he talks of dying. Gave 988."
    )
    page.locator("#id_header-confidentiality_explained").check()
    for item in ("q1", "q2", "q6"):
        answer(page, item, yes=False)
    page.locator("#id_follow_up-crisis_numbers_given").check()
    end_and_sign(page)

    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    expect(page.locator("#stage-safety")).to_contain_text("answers as reported by the caller")
    expect(page.get_by_text("Person at risk", exact=True)).to_be_visible()
    text = pdf_text(note)
    for expected in (
        "Third-party caller",
        "Person at risk Caller, blue jacket",
        "Father",
        "answers as reported by the caller",
        "Gave 988",
    ):
        assert expected in text, expected
    # A full session's fields were never asked of the caller.
    assert not CrisisSession.objects.get(pk=note.pk).exploration.precipitating_event


def test_transfer_to_the_ed_without_a_plan_signs_for_co_sign_with_the_reasons(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    # Full session is the default type: every stage is asked.
    expect(page.locator("#contact-type input[value=full_session]")).to_be_checked()
    page.locator("#id_header-confidentiality_explained").check()
    for item, yes in (("q1", True), ("q2", True), ("q3", True), ("q4", True)):
        answer(page, item, yes=yes)
    answer(page, "q5", yes=False)
    answer(page, "q6", yes=False)
    expect(page.locator("#cssrs-risk")).to_have_text("High")
    page.locator("#id_safety-formulation-clinician_level_2").check()
    page.locator("#id_safety-formulation-rationale").fill("Intent to act tonight.")
    page.locator("#id_safety-means-agitation").select_option("6")
    page.locator("#id_safety-formulation-plan_not_done_reason").select_option("transferred_ed")
    page.locator("#id_safety-means-means_not_done_reason").select_option("transferred_ed")
    page.locator("#id_safety-formulation-supervisor_not_done_reason").select_option("other")
    page.locator("#id_safety-formulation-supervisor_not_done_text").fill(
        "On-call supervisor on another crisis call; message left 21:10."
    )
    page.locator("#id_exploration-precipitating_event").fill("Eviction notice today.")
    page.locator("#id_exploration-suds_not_obtained_reason").fill("Too distressed to rate.")
    page.locator("#id_problem_solving-interventions").fill("Grounding; arranged ED transfer.")
    page.locator("#id_follow_up-followup_plan").fill("ED liaison calls the clinic tomorrow.")
    page.locator("#id_follow_up-crisis_numbers_given").check()
    page.locator("#id_follow_up-disposition_2").check()  # emergency department
    page.locator("#id_follow_up-task_not_done_reason").select_option("transferred_ed")
    end_and_sign(page)

    expect(page.get_by_test_id("note-status")).to_have_text("Awaiting co-sign")
    reasons = page.get_by_test_id("coded-reasons")
    expect(reasons).to_contain_text("Safety plan: Transferred to emergency department")
    expect(reasons).to_contain_text("Supervisor response: Other — On-call supervisor")
    note.refresh_from_db()
    assert "Safety plan (Transferred to emergency department)" in note.cosign_required_reason
    assert User.objects.get(username="counselor").pk == note.author_id
