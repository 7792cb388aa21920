"""Browser tests: Debian's Chromium driven by Playwright against live_server.

Screenshots of failures are written to test-results/ (pytest-playwright's
--screenshot=only-on-failure, set in pyproject.toml)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from crisisnotes.accounts.models import User
from sessions.services.demo import demo_seed

DEMO_PASSWORD = "demo-e2e-password-1"
# The demo clinic admin's authenticator app (invented secret; clinic admins must use two factors).
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


# The server accepts only the code of the 30-second step it checks in (allauth's TOTP_TOLERANCE
# is 0). Typing, submitting and the check take a few seconds on a loaded machine, so a code read
# this close to the end of its step may arrive in the next one and be refused.
TOTP_STEP_MARGIN = 8


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows now (RFC 6238, allauth's own HOTP helper). Like a
    person who sees the app's ring about to run out, it waits for the next code first when the
    current one would expire within TOTP_STEP_MARGIN seconds."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    if at is None:
        left = 30 - time.time() % 30
        if left < TOTP_STEP_MARGIN:
            time.sleep(left + 0.1)
        at = time.time()
    return format_hotp_value(hotp_value(secret, int(at) // 30))


@pytest.fixture
def demo(transactional_db: None) -> None:
    from allauth.mfa.models import Authenticator

    demo_seed(password=DEMO_PASSWORD)
    for admin in User.objects.filter(is_clinic_admin=True):
        Authenticator.objects.create(
            user=admin, type=Authenticator.Type.TOTP, data={"secret": ADMIN_TOTP_SECRET}
        )


def log_in(page: Page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login page; for a user with an authenticator app, type its code."""
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/2fa/authenticate/" in page.url:
        from allauth.mfa.models import Authenticator

        secret = Authenticator.objects.get(
            user__username=username, type=Authenticator.Type.TOTP
        ).data["secret"]
        page.locator("input[name=code]").fill(totp_code(secret))
        page.locator("input[name=code]").press("Enter")
        page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)
