""" "End session and sign" as the browser sends it, and the signed page's clean-up
(static/js/note.js, static/js/note_locked.js): the sign request is URL-encoded (Django parses it
in ~1 ms, multipart took ~10–25 ms), carries only the stages that differ from what the server
confirmed (each whole, as an autosave does) and stores the same bytes the multipart post stored
(line breaks as CRLF); the signed note's page, carried by the answer and shown in place of the
draft (no page load), ends every listener and timer of the draft's and still clears this note's
backups from the browser (note_locked.js) leaving every other key alone; an answer without that
page loads it instead."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from playwright.sync_api import Page, Route, expect

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
    # The signed note is shown in place; its own script (note_locked.js) runs once it is there.
    page.wait_for_function(
        "ours => !Object.keys(localStorage).some(k => ours.some(p => k.startsWith(p)))",
        arg=[f"{ns}note:{note.pk}:", f"{ns}conflict:{note.pk}"],
    )
    left = page.evaluate("Object.keys(localStorage)")
    assert not [key for key in left if key in ours or key.startswith(f"{ns}note:{note.pk}:")]
    assert all(key in left for key in others)


def _sign_wrong_number(page: Page, live_server) -> tuple[CrisisSession, list[str]]:
    """A wrong-number call, typed and then signed with "End session and sign"; every full page
    load from the click on."""
    note = start_session(page, live_server.url)
    choose_type(page, "w", "wrong_number")
    page.locator("#id_header-contact_summary").fill("Asked for the pharmacy on Main Street.")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.locator("#end-sign-button").click()
    confirm(page)
    return note, loads


def test_signed_note_is_shown_in_place_and_the_draft_lets_go(page: Page, live_server, demo) -> None:
    """No page load after the signature: the signed note's own page is shown in place of the
    draft, at its address, and behaves as when loaded (its form works); nothing of the draft's
    acts any more (no save, no shortcut, no heartbeat)."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    note, loads = _sign_wrong_number(page, live_server)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    assert loads == []
    assert page.url == f"{live_server.url}/notes/{note.pk}/"
    expect(page.locator("#note-form")).to_have_count(0)
    expect(page.locator("h1")).to_be_focused()
    user_id = page.evaluate("document.body.dataset.userId")
    page.wait_for_function(
        "prefix => !Object.keys(localStorage).some(k => k.startsWith(prefix))",
        arg=f"crisisnotes:u{user_id}:alive:",
    )
    # The draft's shortcuts are gone: Alt+1 and Ctrl+S are the browser's again.
    prevented = page.evaluate(
        """() => [["Digit1", {altKey: true}], ["KeyS", {ctrlKey: true}], ["KeyN", {altKey: true}]]
          .map(([code, mods]) => !document.dispatchEvent(new KeyboardEvent("keydown",
            Object.assign({code, key: code.slice(-1).toLowerCase(), bubbles: true,
                           cancelable: true}, mods))))"""
    )
    assert prevented == [False, False, False]
    # The page came with the sign request's answer, as the draft's came with the start's: the
    # note's page was never asked for.
    assert requests.count(f"GET {live_server.url}/notes/{note.pk}/") == 0
    after_sign = len(requests)
    page.wait_for_timeout(2500)  # longer than the autosave's debounce
    assert requests[after_sign:] == []
    # Its htmx form works as on a loaded page (the private process note, saved in place).
    page.get_by_test_id("process-note").locator("summary").click()
    page.locator("#id_process-text").fill("Felt rushed on this one.")
    page.get_by_role("button", name="Save private note").click()
    expect(page.get_by_test_id("process-note").get_by_role("status")).to_contain_text("saved")
    assert loads == []
    shown = page.locator("#main").inner_text()
    # The same as the page loaded from the server (whose one-time "Signed and locked." message
    # this showing already took), and its own form works.
    page.reload()
    assert shown.startswith("Signed and locked.\n")
    assert page.locator("#main").inner_text() == shown.removeprefix("Signed and locked.\n")
    page.get_by_label("Correction").check()
    page.locator("#id_text").fill("The caller asked for the pharmacy on Station Road.")
    page.locator("#id_reason").fill("Misheard the street.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_test_id("addenda")).to_contain_text("Station Road")


def test_signed_note_loads_as_a_page_when_it_cannot_be_shown_in_place(
    page: Page, live_server, demo
) -> None:
    """An answer without the signed note's page (here: taken out on the way): the note's page
    is loaded instead, and the note is signed either way."""
    stripped: list[str] = []

    def without_page(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        stripped.append(body.pop("page")[:15])
        route.fulfill(response=answer, json=body)

    page.route("**/end-and-sign/", without_page)
    note, loads = _sign_wrong_number(page, live_server)
    expect(page.get_by_test_id("note-status")).to_have_text("Signed")
    page.wait_for_load_state("load")
    assert stripped == ["<!doctype html>"]
    assert loads == [f"{live_server.url}/notes/{note.pk}/"]
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.SIGNED
