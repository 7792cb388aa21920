"""Nothing typed is lost, in a real browser: a save whose answer never arrives (the page reloads
or the connection drops after the server committed) does not conflict with itself; the
quick-note box survives a closed tab and queues an add made offline; two tabs back up under
their own keys, so one tab's save never deletes the other's unsaved text."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Dialog, Page, Route, expect

from sessions.models import CrisisSession
from tests.e2e.helpers_note import wait_ready, wait_saved
from tests.e2e.test_contact_types_journey import start_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIELD = "#id_exploration-precipitating_event"


def test_a_save_committed_but_never_answered_does_not_conflict_with_itself(
    page: Page, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    dropped: list[str] = []

    def drop_the_answer(route: Route) -> None:
        # The server commits the save; the page never hears back (reload, lost connection).
        if not dropped and route.request.method == "POST":
            route.fetch()
            dropped.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/save/", drop_the_answer)
    page.locator(FIELD).fill("Partner left this morning.")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_contain_text("retrying")
    assert CrisisSession.objects.get(pk=note.pk).exploration.precipitating_event == (
        "Partner left this morning."
    )
    # Typed before the retry: the retry meets version n+1 — its own save — adopts it instead of
    # a conflict, and saves the new text on top.
    page.locator(FIELD).press("End")
    page.keyboard.type(" Called sister.")
    wait_saved(page)
    expect(page.get_by_test_id("js-conflict")).to_be_hidden()
    # Reloading mid-save: the reloaded page shows what the server has, never a false claim.
    page.reload()
    wait_ready(page)
    expect(page.locator(FIELD)).to_have_value("Partner left this morning. Called sister.")
    expect(page.get_by_test_id("js-conflict")).to_be_hidden()
    expect(page.get_by_test_id("conflict-copy")).to_be_hidden()


def test_quick_note_survives_a_closed_tab_and_an_offline_add(
    page: Page, browser: Browser, live_server, demo
) -> None:
    note = start_session(page, live_server.url)
    page.keyboard.press("Alt+q")
    page.keyboard.type("Mentions a bridge near work")
    url = page.url
    page.close(run_before_unload=False)
    # The same browser opens the note again in a new tab: the closed tab's line is back.
    context = page.context
    again = context.new_page()
    again.goto(url)
    wait_ready(again)
    expect(again.locator("#id_quick-text")).to_have_value("Mentions a bridge near work")
    # Offline: the add fails visibly, the text stays, and it is added when back online.
    context.set_offline(True)
    again.locator("#id_quick-text").focus()
    again.keyboard.press("Control+Enter")
    expect(again.get_by_test_id("quick-status")).to_contain_text("Not added yet")
    expect(again.locator("#id_quick-text")).to_have_value("Mentions a bridge near work")
    context.set_offline(False)
    expect(again.get_by_test_id("quick-notes")).to_contain_text(
        "Mentions a bridge near work", timeout=15_000
    )
    assert list(
        CrisisSession.objects.get(pk=note.pk).quick_notes.values_list("text", flat=True)
    ) == ["Mentions a bridge near work"]


def test_two_tabs_keep_their_own_unsaved_text(page: Page, live_server, demo) -> None:
    note = start_session(page, live_server.url)
    other = page.context.new_page()
    other.goto(page.url)
    wait_ready(other)
    # Tab A cannot reach the server; tab B can.
    page.route("**/save/", lambda route: route.abort())
    page.locator(FIELD).fill("Tab A: typed while offline.")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_contain_text("retrying")
    other.locator("#id_exploration-perceived_meaning").fill("Tab B: saved.")
    other.keyboard.press("Control+s")
    wait_saved(other)
    # B's save removed only B's backup: A's text is still backed up and still in A's page.
    keys = page.evaluate(
        f"Object.keys(localStorage).filter(k => /^crisisnotes:u[0-9]+:note:{note.pk}:/.test(k))"
    )
    assert len(keys) == 1, keys
    assert "Tab A: typed while offline." in page.evaluate(f"localStorage.getItem('{keys[0]}')")
    # A reconnects: its save meets B's newer version — a real conflict, and A keeps its text.
    page.unroute("**/save/")
    page.locator(FIELD).press("End")
    page.keyboard.type("!")
    expect(page.get_by_test_id("js-conflict")).to_be_visible(timeout=15_000)
    expect(page.locator(FIELD)).to_have_value("Tab A: typed while offline.!")
    page.get_by_role("button", name="Load the latest and keep a copy of my text").click()
    wait_ready(page)
    expect(page.get_by_test_id("conflict-copy")).to_contain_text("Tab A: typed while offline.!")
    expect(page.locator("#id_exploration-perceived_meaning")).to_have_value("Tab B: saved.")


def test_closing_a_tab_with_unsaved_text_asks_first(page: Page, live_server, demo) -> None:
    start_session(page, live_server.url)
    page.route("**/save/", lambda route: route.abort())
    page.locator(FIELD).fill("Not saved yet.")
    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    if not page.is_closed():
        page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]


def _type_unsaved_and_close(
    page: Page, live_server, text: str
) -> tuple[CrisisSession, str, str, Page]:
    """A note whose text was typed but never saved (every save fails) when its tab closed
    without asking; returns the note, its URL, the closed tab's heartbeat key and a new tab of
    the same browser."""
    note = start_session(page, live_server.url)
    url = page.url
    page.route("**/save/", lambda route: route.abort())
    page.locator(FIELD).fill(text)
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-status")).to_contain_text("retrying")
    alive_key = page.evaluate(
        "'crisisnotes:u' + document.body.dataset.userId + ':alive:' "
        "+ sessionStorage.getItem('crisisnotes:u' + document.body.dataset.userId + ':tab')"
    )
    context = page.context
    page.close(run_before_unload=False)
    return note, url, alive_key, context.new_page()


def test_unsaved_text_of_a_closed_tab_is_taken_over_by_the_next_tab(
    page: Page, live_server, demo
) -> None:
    note, url, _alive_key, again = _type_unsaved_and_close(
        page, live_server, "Typed, never saved, then the tab closed."
    )
    again.goto(url)
    wait_ready(again)
    # At once when the closed tab's pagehide ran; if Chromium closed it without one (it may, on
    # a busy machine), once its last heartbeat is 6 s old.
    expect(again.locator(FIELD)).to_have_value(
        "Typed, never saved, then the tab closed.", timeout=12_000
    )
    wait_saved(again)
    assert CrisisSession.objects.get(pk=note.pk).exploration.precipitating_event == (
        "Typed, never saved, then the tab closed."
    )


def test_unsaved_text_of_a_crashed_tab_is_taken_over_once_its_heartbeat_stops(
    page: Page, live_server, demo
) -> None:
    """A tab that crashed never ran its pagehide: its heartbeat is still fresh when the note is
    opened again, so its backup is first taken for an open tab's. The new page looks again and
    takes it over as soon as the heartbeat is 6 s old, without a reload."""
    note, url, alive_key, again = _type_unsaved_and_close(
        page, live_server, "Typed in the tab that crashed."
    )
    # The closed tab, still beating: another page of the same origin keeps its heartbeat fresh
    # (every 0.5 s) for as long as the new page must take it for an open tab, however slow the
    # machine is.
    ghost = again.context.new_page()
    ghost.goto(f"{live_server.url}/clients/")
    ghost.evaluate(
        "key => { const beat = () => localStorage.setItem(key, String(Date.now()));"
        " beat(); setInterval(beat, 500); }",
        alive_key,
    )
    # The new tab opens the note only once it sees the beat itself: another tab's storage reaches
    # it through the browser process, later on a loaded machine (CI once opened the note before
    # the first beat had arrived, and rightly took the silent tab's text at once).
    again.goto(f"{live_server.url}/clients/")
    again.wait_for_function(
        "key => Date.now() - parseInt(localStorage.getItem(key) || '0', 10) < 2000",
        arg=alive_key,
    )
    again.goto(url)
    wait_ready(again)
    expect(again.locator(FIELD)).to_have_value("")  # an open tab's text: not taken yet
    again.wait_for_timeout(2_500)  # at least one more look (every 2 s) while it still beats
    expect(again.locator(FIELD)).to_have_value("")
    # The crash: it stops beating without a pagehide (the ghost page has none to run).
    ghost.close(run_before_unload=False)
    expect(again.locator(FIELD)).to_have_value("Typed in the tab that crashed.", timeout=15_000)
    wait_saved(again)
    assert CrisisSession.objects.get(pk=note.pk).exploration.precipitating_event == (
        "Typed in the tab that crashed."
    )


def test_the_supervisor_record_controls_are_not_the_notes_fields(
    page: Page, live_server, demo
) -> None:
    """The supervisor record's controls sit inside the note's form on the page but belong to the
    page's side form: its "notified at" default is now, to the minute, and as part of the note
    it made a save whose answer was lost look like a conflict whenever the minute turned before
    the page compared its fields with the server's (CI saw it once)."""
    start_session(page, live_server.url)
    names = page.evaluate("Array.from(new FormData(document.getElementById('note-form')).keys())")
    assert "exploration-precipitating_event" in names
    assert [name for name in names if name.startswith("supervisor-record-")] == []
    assert (
        page.evaluate("document.getElementById('id_supervisor-record-notified_at').form.id")
        == "note-side-form"
    )
