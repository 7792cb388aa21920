"""The page's C-SSRS rules (static/js/cssrs.js) agree with the server's (safety/cssrs.py) on every
combination of answers: which items are asked, the risk as soon as it is determined, its lower
bound before that, and the text the page shows."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from safety.cssrs import (
    CssrsVersion,
    cssrs_asked,
    cssrs_risk,
    cssrs_risk_floor,
    cssrs_risk_text,
    cssrs_validate,
)

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
    assert mismatches == []
