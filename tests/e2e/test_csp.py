"""Chromium reports no Content-Security-Policy violation on the main pages of each role: every
script and style the pages use comes from our own static files."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from crisisnotes.accounts.models import User
from sessions.models import Client
from tests.e2e.conftest import log_in
from tests.factories import NoteFactory
from tests.sessions.note_helpers import start_note

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Collects violations in the page (Chromium fires this event for every blocked resource or
# inline script/style, including ones the console never shows).
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile);
});
"""


def _visit(page: Page, url: str, console: list[str]) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    found = page.evaluate("window.__csp")
    return [f"{url}: {v}" for v in found] + [f"{url}: {c}" for c in console]


@pytest.mark.parametrize("role", ["counselor", "supervisor", "admin"])
def test_no_csp_violation_on_the_main_pages(page: Page, live_server, demo, role):
    console: list[str] = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(LISTEN)
    base = live_server.url
    counselor = User.objects.get(username="counselor")
    client = Client.objects.filter(clinic=counselor.clinic).first()
    assert client is not None
    signed = NoteFactory.create(signed=True, high_risk=True, author=counselor, client=client)
    draft = start_note(counselor, client=client)
    pages = {
        "counselor": [
            "/work/",
            "/clients/",
            f"/clients/{client.pk}/",
            f"/clients/{client.pk}/edit/",
            f"/notes/{draft.pk}/",
            f"/notes/{signed.pk}/",
            "/notifications/",
        ],
        "supervisor": ["/team/", "/team/queue/", "/team/sessions/", "/team/followups/"],
        "admin": ["/clinic/", "/clinic/users/", "/clinic/audit/", "/exports/"],
    }[role]
    log_in(page, base, role)
    violations: list[str] = []
    for path in pages:
        violations += _visit(page, base + path, console)
        console.clear()
    if role == "counselor":
        page.goto(f"{base}/clients/")
        page.keyboard.type("blue")  # search as you type: an htmx swap
        page.wait_for_selector("[data-testid=client-results]")
        violations += [f"search: {v}" for v in page.evaluate("window.__csp")] + console
    assert violations == []
