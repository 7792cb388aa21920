"""A new session opens in place (static/js/session.js, `data-open-in-place`): "Start session" on
the client page and "New client: start a session now" in the search results send one request,
whose answer carries the draft's page, shown in place of the page they were on, at the note's
address, with no page load; the draft then works as when loaded (note.js, its stylesheet, the
snippets, autosave, the focus in its first stage), Back and Forward load what their address
gives. An answer without that page loads it; a refusal is posted again as a plain form (nothing
was created); a server error is said, and nothing is posted again by itself."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import Client, CrisisSession
from sessions.services.snippets import snippet_save
from tests.e2e.conftest import log_in
from tests.e2e.helpers_note import save_now, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTE_URL = re.compile(r"/notes/(\d+)/$")


def _watch(page: Page) -> tuple[list[str], list[str]]:
    """Every page load and every request from now on (the page shown has loaded)."""
    page.wait_for_load_state("load")
    loads: list[str] = []
    requests: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    return loads, requests


def _search(page: Page, base: str, text: str) -> None:
    """Signed in as the counselor, the client search typed into (once its box has the focus)."""
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    expect(page.locator("#client-q")).to_be_focused()
    page.keyboard.type(text)


def _client_page(page: Page, base: str) -> None:
    _search(page, base, "blue")
    page.get_by_test_id("client-results").get_by_role("link", name="Caller, blue jacket").click()
    expect(page.get_by_role("button", name="Start session")).to_be_visible()


def _new_caller_offer(page: Page, base: str) -> Locator:
    """The search results' "New client “grey coat”: start a session now" button."""
    _search(page, base, "grey coat")
    start = page.get_by_test_id("new-client-start")
    expect(start).to_contain_text("grey coat")  # the results of the whole text
    return start


def test_new_caller_session_opens_in_place_and_works_as_loaded(
    page: Page, live_server, demo
) -> None:
    base = live_server.url
    admin = User.objects.get(username="admin")
    snippet_save(actor=admin, shortcut="conf", text="Reviewed limits of confidentiality.")
    start = _new_caller_offer(page, base)
    loads, requests = _watch(page)
    start.click()
    wait_ready(page)
    expect(page).to_have_url(NOTE_URL)
    note = CrisisSession.objects.get(client__alias="grey coat")
    assert page.url == f"{base}/notes/{note.pk}/"
    assert loads == []
    assert f"GET {base}/notes/{note.pk}/" not in requests  # the page came with the answer
    assert [r for r in requests if r.startswith("POST")] == [f"POST {base}/clients/new/"]
    expect(page).to_have_title(re.compile("^Session with grey coat"))
    # As a loaded draft: the focus in its first stage, its stylesheet applied, the snippet
    # menu's data and list (outside the main content) there, one audited view.
    expect(page.locator("[data-stage-number='1'] :focus")).to_have_count(1)
    visibility = page.locator(".stage").first.evaluate(
        "el => getComputedStyle(el).contentVisibility"
    )
    assert visibility == "auto"
    expect(page.locator("#snippets-data")).to_have_count(1)
    expect(page.locator("#snippet-menu")).to_have_count(1)
    # The confirm dialog of "End session and sign" is built ahead, as on a loaded page.
    expect(page.locator("#confirm-dialog")).to_have_count(1)
    views = AuditEvent.objects.filter(
        action=Action.VIEW, object_type="crisis_sessions.crisissession", object_id=str(note.pk)
    )
    assert views.count() == 1
    # It saves what is typed, and a snippet is offered from the keyboard.
    field = page.locator("#id_exploration-precipitating_event")
    field.click()
    page.keyboard.type("Argument at home. ;conf")
    expect(page.get_by_test_id("snippet-menu")).to_be_visible()
    page.keyboard.press("Tab")
    save_now(page)
    stored = CrisisSession.objects.get(pk=note.pk).exploration.precipitating_event
    assert stored == "Argument at home. Reviewed limits of confidentiality."
    # Back: the search page its address gives (loaded); Forward: the note's page, loaded, with
    # what was typed.
    with page.expect_event("load"):
        page.go_back()
    expect(page).to_have_url(f"{base}/clients/")
    expect(page.locator("#client-q")).to_be_visible()
    assert loads == [f"{base}/clients/"]
    page.go_forward()
    wait_ready(page)
    expect(page.locator("#id_exploration-precipitating_event")).to_have_value(stored)
    assert loads == [f"{base}/clients/", f"{base}/notes/{note.pk}/"]


def test_start_session_on_the_client_page_opens_in_place(page: Page, live_server, demo) -> None:
    base = live_server.url
    _client_page(page, base)
    loads, requests = _watch(page)
    # Every script the renderer runs is compiled once per run (DevTools: scriptParsed).
    ran: list[str] = []
    devtools = page.context.new_cdp_session(page)
    devtools.on("Debugger.scriptParsed", lambda event: ran.append(event.get("url", "")))
    devtools.send("Debugger.enable")
    page.get_by_role("button", name="Start session").click()
    wait_ready(page)
    note = CrisisSession.objects.get(client__alias="Caller, blue jacket", status="draft")
    assert page.url == f"{base}/notes/{note.pk}/"
    assert loads == []
    assert f"GET {base}/notes/{note.pk}/" not in requests
    # Each of the draft's own scripts ran once (those in the page as parsed never run).
    page.wait_for_timeout(300)
    names = [re.sub(r"\.[0-9a-f]{12}\.js$|\.js$", "", url.rsplit("/", 1)[-1]) for url in ran]
    assert sorted(n for n in names if n in {"note", "cssrs", "plan_rows"}) == [
        "cssrs",
        "note",
        "plan_rows",
    ]
    # The C-SSRS script of the page (deferred on a load) runs too: a Yes opens SAFE-T.
    expect(page.locator("[data-stage-number='1'] :focus")).to_have_count(1)
    details = page.locator("#safety-formulation-details")
    expect(details).not_to_have_attribute("open", re.compile(".*"))
    page.locator("#id_safety-screen-q1").check()
    expect(details).to_have_attribute("open", re.compile(".*"))


def test_an_answer_without_the_page_loads_the_note(page: Page, live_server, demo) -> None:
    base = live_server.url
    _client_page(page, base)

    def strip_page(route: Route) -> None:
        answer = route.fetch()
        body = answer.json()
        body.pop("page")
        route.fulfill(response=answer, body=json.dumps(body))

    page.route("**/start/", strip_page)
    loads, _ = _watch(page)
    page.get_by_role("button", name="Start session").click()
    wait_ready(page)
    note = CrisisSession.objects.get(client__alias="Caller, blue jacket", status="draft")
    assert loads == [f"{base}/notes/{note.pk}/"]


def test_a_refused_start_is_said_by_the_form_and_creates_nothing(
    page: Page, live_server, demo
) -> None:
    """No modality chosen (the radios cleared by hand): the server refuses, the form says why
    and the page stays; no session exists; once chosen, the session opens."""
    base = live_server.url
    _client_page(page, base)
    page.evaluate(
        """() => document.querySelectorAll("[name=modality]").forEach((radio) => {
          radio.checked = false; radio.required = false; })"""
    )
    loads, _ = _watch(page)
    button = page.get_by_role("button", name="Start session")
    button.click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("Choose how the client reached us to start the session.")
    expect(button).to_be_enabled()
    assert loads == []
    assert not CrisisSession.objects.filter(status="draft", client__alias="Caller, blue jacket")
    page.get_by_label("Phone").check()
    button.click()
    wait_ready(page)
    assert loads == []


def test_a_start_refused_as_a_plain_form_is_posted_as_one(page: Page, live_server, demo) -> None:
    """A refusal that is not the form's own 400 (here the new client's form with a blank alias:
    the page with the form's errors) has the form posted as a plain form: the page a plain post
    gets, nothing created."""
    base = live_server.url
    start = _new_caller_offer(page, base)
    page.locator("[data-open-in-place] [name=alias]").evaluate("el => { el.value = '  '; }")
    _, requests = _watch(page)
    start.click()
    expect(page).to_have_url(f"{base}/clients/new/")
    expect(page.locator(".invalid-feedback, .errorlist").first).to_be_visible()
    posts = [r for r in requests if r.startswith("POST")]
    assert posts == [f"POST {base}/clients/new/"] * 2
    assert not Client.objects.filter(alias__in=["", "  "]).exists()
    assert not CrisisSession.objects.filter(client__alias="grey coat").exists()


def test_a_server_error_is_said_and_nothing_is_posted_again(page: Page, live_server, demo) -> None:
    base = live_server.url
    _client_page(page, base)
    page.route("**/start/", lambda route: route.fulfill(status=500, body="Server Error"))
    _, requests = _watch(page)
    button = page.get_by_role("button", name="Start session")
    button.click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The session could not be opened")
    expect(alert).to_contain_text("My work")
    expect(button).to_be_enabled()
    page.wait_for_timeout(500)
    assert len([r for r in requests if r.startswith("POST")]) == 1
    assert "/clients/" in page.url and "/notes/" not in page.url
