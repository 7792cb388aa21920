"""The client search box in a real browser: what a counselor types the moment the page opens,
before htmx is listening, still brings its results (static/js/session.js)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_text_typed_before_htmx_listens_still_finds_the_client(
    page: Page, live_server, demo
) -> None:
    log_in(page, live_server.url, "counselor")
    held: list[Route] = []
    # htmx is held back until the text is in the box: the page is parsed up to its scripts, the
    # box (which has the focus) takes the keys, and nothing listens to them yet.
    page.route("**/htmx-2*.js", lambda route: held.append(route))
    page.goto(f"{live_server.url}/clients/", wait_until="commit")
    box = page.locator("#client-q")
    box.press_sequentially("blue")
    page.wait_for_timeout(300)  # past the 250 ms debounce, had anything been listening
    results = page.get_by_test_id("client-results")
    expect(results).to_contain_text("Jordan Fictional")  # still the unfiltered recent clients
    assert held, "htmx was never requested"
    held[0].continue_()
    expect(results).not_to_contain_text("Jordan Fictional")  # the search ran
    expect(results.get_by_role("link", name="Caller, blue jacket")).to_be_visible()
    expect(box).to_have_value("blue")  # nothing typed is lost either
