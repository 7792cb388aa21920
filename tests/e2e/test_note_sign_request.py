""" "End session and sign" as the browser sends it, and the signed page's clean-up
(static/js/note.js, static/js/note_locked.js): the sign request is URL-encoded (Django parses it
in ~1 ms, multipart took ~10–25 ms), carries only the stages that differ from what the server
confirmed (each whole, as an autosave does) and stores the same bytes the multipart post stored
(line breaks as CRLF); the signed page, which no longer loads note.js, still clears this note's
backups from the browser and leaves every other key alone."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from playwright.sync_api import Page, expect

from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from tests.e2e.helpers_confirm import confirm
from tests.e2e.test_contact_types_journey import choose_type, start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_request_is_url_encoded_and_stores_what_multipart_stored(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    choose_type(page, "w", "wrong_number")
    summary = page.locator("#id_header-contact_summary")
    summary.fill("Asked for the pharmacy.\nOn Main Street, near the station.")
    # What a multipart post of the form carried: its entries, every line break as CRLF, each
    # with the stage its field sits in ("" outside the stages).
    carried = page.evaluate(
        """() => {
          const form = document.getElementById("note-form");
          const out = [];
          new FormData(form).forEach((value, name) => {
            const field = form.elements.namedItem(name);
            const el = field && field.length !== undefined && !field.tagName ? field[0] : field;
            const stage = el && el.closest ? el.closest("[data-stage]") : null;
            out.push([name, String(value).replace(/\\r\\n|\\r|\\n/g, "\\r\\n"),
                      stage && form.contains(stage) ? stage.getAttribute("data-stage") : ""]);
          });
          return out;
        }"""
    )
    with page.expect_request("**/end-and-sign/") as sent:
        page.locator("#end-sign-button").click()
        confirm(page)
    request = sent.value
    assert (request.headers.get("content-type") or "").startswith(
        "application/x-www-form-urlencoded"
    )
    posted = parse_qsl(request.post_data or "", keep_blank_values=True)
    # Only the stages that differ from what the server confirmed: the header, where the type and
    # the summary were typed (leaving a field for the sign button saves nothing of its own;
    # none, "stages=", if a slow moment let the 2 s autosave confirm them first), whole; no
    # other stage; every field outside the stages.
    # The confirm dialog's marker is added to the form on confirm, and an autosave that
    # answers between the reading above and the click moves the version on (the page posts
    # the version it last saved).
    stages = {value for name, value in posted if name == "stages"}
    assert stages in ({"header"}, {""})
    moving = {"confirmed", "version", "stages"}
    assert [pair for pair in posted if pair[0] not in moving] == [
        (name, value)
        for name, value, stage in carried
        if name not in moving and stage in stages | {""}
    ]
    assert ("confirmed", "1") in posted
    (version,) = [value for name, value in posted if name == "version"]
    (read,) = [value for name, value, _stage in carried if name == "version"]
    assert int(version) >= int(read)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    stored = CrisisSession.objects.get(pk=note.pk)
    assert stored.status == NoteStatus.SIGNED
    assert stored.contact_summary == "Asked for the pharmacy.\r\nOn Main Street, near the station."


def test_signed_page_clears_this_notes_backups_only(page: Page, live_server, demo) -> None:
    note = start_session(page, live_server.url)
    choose_type(page, "w", "wrong_number")
    page.locator("#id_header-contact_summary").fill("Asked for the pharmacy on Main Street.")
    user_id = page.evaluate("document.body.dataset.userId")
    ns = f"crisisnotes:u{user_id}:"
    ours = [f"{ns}note:{note.pk}:v99:tx", f"{ns}conflict:{note.pk}"]
    others = [f"{ns}note:{note.pk + 1000}:v1:tx", f"{ns}quick:{note.pk}:tx"]
    page.evaluate("keys => keys.forEach(k => localStorage.setItem(k, '{}'))", ours + others)
    page.locator("#end-sign-button").click()
    confirm(page)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    page.wait_for_load_state("load")
    left = page.evaluate("Object.keys(localStorage)")
    assert not [key for key in left if key in ours or key.startswith(f"{ns}note:{note.pk}:")]
    assert all(key in left for key in others)
