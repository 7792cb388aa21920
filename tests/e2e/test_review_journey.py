"""The supervision journey in a real browser: a trainee signs, the supervisor returns the note
with a comment on the Problem-solving stage, the trainee fixes it and signs again, the supervisor
co-signs, and the note shows both signatures and is locked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from crisisnotes.accounts.models import User
from sessions.models import Client, CrisisSession
from sessions.models.notes import NoteStatus
from sessions.services.notes import note_autosave
from tests.e2e.conftest import log_in
from tests.e2e.helpers_confirm import confirm
from tests.sessions.note_helpers import complete_data, reload, start_note

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _ready_to_sign_draft() -> CrisisSession:
    """The trainee's draft with every required item filled (typing it all is the note page's
    own journey); the steps under test here go through the pages."""
    trainee = User.objects.get(username="trainee")
    client = Client.objects.get(alias="Caller, blue jacket")
    note = reload(start_note(trainee, client=client))
    return note_autosave(
        note=note,
        user=trainee,
        base_version=note.version,
        data=complete_data(
            note,
            **{
                # C-SSRS screen all "no" (no risk), agitation rated: the safety stage is done.
                "safety-screen-q1": "no",
                "safety-screen-q2": "no",
                "safety-screen-q6": "no",
                "safety-means-agitation": "2",
                "problem_solving-action_plan": "Talk to someone.",
            },
        ),
    )


def test_trainee_note_is_returned_fixed_and_cosigned(
    page: Page, browser: Browser, live_server, demo
):
    note = _ready_to_sign_draft()
    base = live_server.url
    note_url = f"{base}/notes/{note.pk}/"

    # The trainee signs: the note waits for the supervisor.
    trainee = page
    log_in(trainee, base, "trainee")
    trainee.goto(note_url)
    trainee.get_by_role("button", name="Sign note").click()
    confirm(trainee)
    expect(trainee.get_by_test_id("note-status")).to_have_text("Awaiting co-sign")

    # It is in the supervisor's queue; they return it with a comment on Problem-solving.
    supervisor = browser.new_context(base_url=base).new_page()
    log_in(supervisor, base, "supervisor")
    supervisor.get_by_role("link", name="Team", exact=True).click()
    supervisor.get_by_role("link", name="Open the review queue").click()
    queue = supervisor.get_by_test_id("review-queue")
    expect(queue).to_contain_text("Sam Placeholder")
    queue.get_by_role("link", name="Caller, blue jacket").click()
    actions = supervisor.get_by_test_id("review-actions")
    actions.get_by_label("Comment 1 is about").select_option(label="Problem-solving")
    actions.get_by_label("Comment 1", exact=True).fill(
        "The action plan needs a concrete first step and a time."
    )
    actions.get_by_role("button", name="Return with comments").click()
    expect(supervisor.get_by_role("status").first).to_contain_text("Returned the note")
    expect(supervisor.get_by_text("Nothing is waiting for your co-signature")).to_be_visible()

    # The trainee is notified, sees the comment beside the Problem-solving fields, fixes it and
    # signs again.
    trainee.goto(f"{base}/notifications/")
    trainee.get_by_role("link", name=re.compile("returned your note")).click()
    expect(trainee).to_have_url(note_url)
    expect(trainee.get_by_test_id("note-status")).to_have_text("Draft")
    comments = trainee.locator("#stage-problem_solving").get_by_test_id(
        "review-comments-problem_solving"
    )
    expect(comments).to_contain_text("needs a concrete first step")
    trainee.locator("#id_problem_solving-action_plan").fill(
        "Call the walk-in clinic at 9:00 tomorrow; sister stays tonight."
    )
    trainee.get_by_role("button", name="Sign note").click()
    confirm(trainee)
    expect(trainee.get_by_test_id("note-status")).to_have_text("Awaiting co-sign")

    # The supervisor co-signs from the queue.
    supervisor.goto(f"{base}/team/queue/")
    supervisor.get_by_test_id("review-queue").get_by_role(
        "link", name="Caller, blue jacket"
    ).click()
    expect(supervisor.get_by_text("9:00 tomorrow")).to_be_visible()
    supervisor.get_by_role("button", name="Co-sign and lock").click()
    confirm(supervisor)
    expect(supervisor.get_by_role("status").first).to_contain_text("Co-signed")

    # The note shows both signatures, keeps the review thread, and is locked.
    trainee.goto(note_url)
    expect(trainee.get_by_test_id("note-status")).to_have_text("Signed")
    page_text = trainee.locator("main")
    expect(page_text).to_contain_text("Sam Placeholder")
    expect(page_text).to_contain_text("Co-signed by Morgan Sample, LCSW")
    expect(trainee.get_by_test_id("review-thread")).to_contain_text("concrete first step")
    expect(trainee.get_by_role("button", name="Sign note")).to_have_count(0)
    expect(trainee.locator("#id_problem_solving-action_plan")).to_have_count(0)

    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert note.signer_name == "Sam Placeholder"
    assert note.cosigner_name == "Morgan Sample"
    assert note.cosign_hash
