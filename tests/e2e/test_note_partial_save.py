"""Autosave posts only what changed, in a real browser: each save carries the stages whose
fields differ from what the server last confirmed (every field of those stages), and the server
leaves the other stages as stored. "End session and sign" saves the page itself: leaving a field
for it starts no autosave for the signature to wait on, and what was typed is in the record."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, Request, expect

from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from tests.e2e.helpers_confirm import confirm
from tests.e2e.helpers_note import wait_ready, wait_saved
from tests.e2e.test_contact_types_journey import choose_type, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _stages(saves: list[dict[str, list[str]]]) -> set[str]:
    """Every stage the saves posted (an empty `stages` entry: a save of no stage)."""
    assert saves and all("stages" in body for body in saves), saves
    return {stage for body in saves for stage in body["stages"] if stage}


def _fields(saves: list[dict[str, list[str]]]) -> set[str]:
    return {name for body in saves for name in body}


def _save_now(page: Page, stage: str) -> None:
    """Ctrl+S, until the save carrying `stage` is answered (a save already running when the
    keys are pressed is answered first, and the page then saves again)."""
    with page.expect_response(
        lambda r: r.url.endswith("/save/") and f"stages={stage}" in (r.request.post_data or "")
    ) as answer:
        page.keyboard.press("Control+s")
    assert answer.value.status == 200


def _saves(page: Page) -> list[dict[str, list[str]]]:
    """The bodies of the autosaves the page sends from now on."""
    bodies: list[dict[str, list[str]]] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/save/"):
            bodies.append(parse_qs(request.post_data or "", keep_blank_values=True))

    page.on("request", seen)
    return bodies


def test_autosave_posts_only_the_changed_stages_and_the_others_stay_as_stored(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    saves = _saves(page)
    page.locator("#id_rapport-engagement_notes").fill("Warmed up after a few minutes.")
    _save_now(page, "rapport")
    assert _stages(saves) == {"rapport"}
    assert "rapport-validation_notes" in _fields(saves)  # the stage whole, empty fields too
    assert not [name for name in _fields(saves) if name.startswith(("exploration-", "header-"))]
    saves.clear()

    page.locator("#id_exploration-precipitating_event").fill("Eviction notice today.")
    page.locator("#id_exploration-suds_start").select_option("7")
    _save_now(page, "exploration")
    assert _stages(saves) == {"exploration"}
    assert not [name for name in _fields(saves) if name.startswith("rapport-")]
    # Leaving a saved field fires its change event: with nothing new, nothing is sent.
    saves.clear()
    page.locator("#id_exploration-suds_end").focus()
    page.wait_for_timeout(2_500)  # past the autosave's debounce
    assert saves == []
    expect(page.get_by_test_id("save-status")).to_have_text(re.compile(r"^saved \d\d:\d\d:\d\d$"))
    stored = CrisisSession.objects.get(pk=note.pk)
    assert stored.rapport.engagement_notes == "Warmed up after a few minutes."
    assert stored.exploration.precipitating_event == "Eviction notice today."
    assert stored.exploration.suds_start == 7

    # Reloaded, the page starts from what the server holds; an unchecked box of a changed
    # stage is posted as unchecked (the stage goes whole).
    page.reload()
    wait_ready(page)
    saves.clear()
    box = page.locator("#id_header-confidentiality_explained")
    box.check()
    _save_now(page, "header")
    assert _stages(saves) == {"header"}
    saves.clear()
    box.uncheck()
    _save_now(page, "header")
    assert _stages(saves) == {"header"}
    stored = CrisisSession.objects.get(pk=note.pk)
    assert stored.confidentiality_explained is False
    assert stored.rapport.engagement_notes == "Warmed up after a few minutes."
    assert stored.exploration.suds_start == 7


def test_end_and_sign_right_after_typing_saves_the_text_without_an_autosave_first(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    choose_type(page, "w", "wrong_number")
    wait_saved(page)  # a new contact type saves at once
    saves = _saves(page)
    page.locator("#id_header-contact_summary").press_sequentially("Asked for the pharmacy.")
    page.locator("#end-sign-button").click()  # the field loses the focus to the button
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    assert saves == []  # the signature did not wait on a save of its own page
    stored = CrisisSession.objects.get(pk=note.pk)
    assert stored.status == NoteStatus.SIGNED
    assert stored.contact_summary == "Asked for the pharmacy."


def test_a_refused_signature_counts_as_a_save_and_autosave_goes_on_from_it(
    page: Page, live_server, demo
) -> None:
    """Refused (a rule unmet), the sign request has still saved the page: nothing is left to
    save, no stale backup is offered after a reload, and the next change saves as usual."""
    note = start_session(page, live_server.url)
    choose_type(page, "w", "wrong_number")
    wait_saved(page)  # a new contact type saves at once
    saves = _saves(page)
    page.locator("#id_rapport-engagement_notes").fill("Calm, asked for directions.")
    page.locator("#end-sign-button").click()
    confirm(page)
    expect(page.get_by_test_id("sign-live")).to_contain_text("1 thing to complete")
    assert saves == []
    # The refusal's save wrote the rapport text: its badge follows without another save.
    expect(page.locator("#stage-rapport .completion-badge")).to_have_text("In progress")
    stored = CrisisSession.objects.get(pk=note.pk)
    assert stored.contact_type == "wrong_number"
    assert stored.rapport.engagement_notes == "Calm, asked for directions."
    expect(page.locator("#note-version")).to_have_value(str(stored.version))
    page.locator("#id_header-contact_summary").fill("Asked for the pharmacy.")
    expect(page.get_by_test_id("sign-live")).to_contain_text("Nothing missing", timeout=10_000)
    assert _stages(saves) == {"header"}
    page.reload()
    wait_ready(page)
    expect(page.locator("#id_header-contact_summary")).to_have_value("Asked for the pharmacy.")
    expect(page.get_by_test_id("conflict-copy")).to_be_hidden()
    expect(page.get_by_test_id("js-conflict")).to_be_hidden()
