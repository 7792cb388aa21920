"""The page's C-SSRS rules (static/js/cssrs.js) agree with the server's (safety/cssrs.py) on every
combination of answers: which items are asked, the risk as soon as it is determined, its lower
bound before that, and the text the page shows."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from safety.cssrs import (
    ITEM6_EXAMPLES,
    WINDOW_TEXT,
    CssrsVersion,
    cssrs_asked,
    cssrs_item_text,
    cssrs_items,
    cssrs_risk,
    cssrs_risk_floor,
    cssrs_risk_text,
    cssrs_validate,
)
from tests.e2e.conftest import log_in
from tests.e2e.helpers_note import wait_ready
from tests.e2e.helpers_safety import answer

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "cssrs.js"
KEYS = ["q1", "q2", "q3", "q4", "q5", "q6", "q6b"]


def test_browser_rules_match_the_server_rules(page: Page) -> None:
    page.set_content(
        f"<!doctype html><html><body><script>{SCRIPT.read_text()}</script></body></html>"
    )
    cases = []
    for version in CssrsVersion:
        for combo in itertools.product((None, True, False), repeat=7):
            answers = dict(zip(KEYS, combo, strict=True))
            if cssrs_validate(answers, version):
                continue  # the page never holds these: it clears skipped answers
            cases.append(
                {
                    "version": str(version),
                    "answers": answers,
                    "asked": cssrs_asked(answers, version),
                    "risk": cssrs_risk(answers, version),
                    "floor": cssrs_risk_floor(answers, version),
                    "text": cssrs_risk_text(answers, version),
                }
            )
    mismatches = page.evaluate(
        """(cases) => cases.filter((c) => {
            const r = window.crisisnotesCssrs;
            return JSON.stringify(r.asked(c.answers, c.version)) !== JSON.stringify(c.asked)
                || r.risk(c.answers, c.version) !== c.risk
                || r.floor(c.answers, c.version) !== c.floor
                || r.riskText(c.answers, c.version) !== c.text;
        })""",
        json.loads(json.dumps(cases)),
    )
    assert len(cases) > 100
    assert {c["version"] for c in cases} == set(CssrsVersion.values)  # both versions, exhaustively
    assert mismatches == []


def _start(page: Page, base: str) -> None:
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    page.keyboard.type("blue jacket")
    page.get_by_test_id("client-results").get_by_role("link", name="Caller, blue jacket").click()
    page.get_by_role("button", name="Start session").click()
    expect(page).to_have_url(re.compile(r"/notes/\d+/$"))
    wait_ready(page)


@pytest.mark.django_db(transaction=True)
def test_page_wording_is_the_servers_for_both_versions(page: Page, live_server, demo) -> None:
    """What the counselor reads is what safety/cssrs.py says each version asks: switching to
    "since last contact" rewords every item, drops 6b and never shows "ever"."""
    _start(page, live_server.url)
    fieldset = page.locator("#safety-cssrs")
    for version in (CssrsVersion.SINCE_LAST_CONTACT, CssrsVersion.RECENT):
        page.locator(f"[data-cssrs-version] input[value={version}]").check()
        # Make every item of the version visible: 2 = yes asks 3–6, 6 = yes asks 6b (recent).
        answer(page, "q2", yes=True)
        answer(page, "q6", yes=True)
        for item in cssrs_items(version):
            row = page.locator(f"#cssrs-row-{item.key}")
            expect(row).to_be_visible()
            expect(row.locator("[data-cssrs-text]")).to_have_text(
                cssrs_item_text(item.key, version)
            )
        expect(page.locator("[data-cssrs-window]")).to_have_text(str(WINDOW_TEXT[version]))
        expect(page.locator("[data-cssrs-examples]")).to_have_text(ITEM6_EXAMPLES)
        if version == CssrsVersion.SINCE_LAST_CONTACT:
            expect(page.locator("#cssrs-row-q6b")).to_be_hidden()
            shown = fieldset.inner_text()
            assert not re.search(r"\b(ever|lifetime)\b", shown, re.I), shown
        else:
            expect(page.locator("#cssrs-row-q6b")).to_be_visible()
        for key in ("q6", "q2"):  # back to unanswered for the next version
            for radio in page.locator(f"#cssrs-row-{key} input").all():
                radio.evaluate("r => { r.checked = false; }")
            page.locator(f"#cssrs-row-{key} input").first.dispatch_event("change")


@pytest.mark.django_db(transaction=True)
def test_safe_t_is_one_line_while_every_answer_is_no_and_opens_on_a_yes(
    page: Page, live_server, demo
) -> None:
    _start(page, live_server.url)
    details = page.locator("#safety-formulation-details")
    summary = page.get_by_test_id("formulation-summary")
    for item in ("q1", "q2", "q6"):
        answer(page, item, yes=False)
    expect(details).not_to_have_attribute("open", re.compile(".*"))
    expect(summary).to_contain_text("not required: no screening answer is yes")
    expect(page.locator("#id_safety-formulation-rationale")).to_be_hidden()
    # Reachable by keyboard while closed: the summary is a Tab stop, Enter opens it.
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#id_safety-formulation-rationale")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#id_safety-formulation-rationale")).to_be_hidden()
    # Any yes opens it by itself.
    answer(page, "q1", yes=True)
    expect(details).to_have_attribute("open", "")
    expect(summary).to_contain_text("required: a C-SSRS answer is yes")
