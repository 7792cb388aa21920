"""Two-factor sign-in in a real browser: a clinic admin without it is sent to set up an
authenticator app (the code computed here, as the app would), then signs in with password and
code; enrolment is audited and e-mailed."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import OutgoingEmail
from tests.e2e.conftest import DEMO_PASSWORD, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


LISTEN = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__report(location.pathname + ' ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""
violations: list[str] = []


def _password_step(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_clinic_admin_enrols_an_authenticator_app_and_signs_in_with_it(
    page: Page, live_server, demo
):
    base = live_server.url
    violations.clear()
    page.expose_function("__report", lambda text: violations.append(text))
    page.add_init_script(LISTEN)  # the set-up and sign-in pages obey the CSP too
    admin = User.objects.get(username="admin")
    Authenticator.objects.filter(user=admin).delete()  # a clinic admin who has not set it up

    _password_step(page, base)
    # Every page sends them to set it up first.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    page.goto(f"{base}/clinic/users/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    expect(page.get_by_text("requires two-factor sign-in")).to_be_visible()

    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    assert AuditEvent.objects.filter(action=Action.MFA_ENROL, actor=admin).exists()
    assert OutgoingEmail.objects.filter(
        recipient=admin, kind="security", subject__contains="Two-factor sign-in was set up"
    ).exists()
    page.goto(f"{base}/clinic/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo Crisis Clinic")

    page.get_by_role("button", name="Log out").click()
    # A code is accepted once: wait for the app's next code before signing in again.
    time.sleep(30 - time.time() % 30 + 1)
    _password_step(page, base)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.locator("input[name=code]").fill("000000" if totp_code(secret) != "000000" else "111111")
    page.locator("input[name=code]").press("Enter")
    expect(page.get_by_text(re.compile("Incorrect code", re.I))).to_be_visible()
    page.locator("input[name=code]").fill(totp_code(secret))
    page.locator("input[name=code]").press("Enter")
    expect(page).to_have_url(f"{base}/clinic/")
    expect(page.get_by_test_id("current-user")).to_contain_text("Alex Demo")
    assert violations == []
