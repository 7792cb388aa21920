"""Browser tests: Debian's Chromium driven by Playwright against live_server.

Screenshots of failures are written to test-results/ (pytest-playwright's
--screenshot=only-on-failure, set in pyproject.toml)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from sessions.services.demo import demo_seed

DEMO_PASSWORD = "demo-e2e-password-1"


@pytest.fixture
def demo(transactional_db: None) -> None:
    demo_seed(password=DEMO_PASSWORD)


def log_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
