"""Browser tests: Debian's Chromium driven by Playwright against live_server.

Screenshots of failures are written to test-results/ (pytest-playwright's
--screenshot=only-on-failure, set in pyproject.toml)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import User
from sessions.services.demo import demo_seed

# Assertions wait up to 10 s for the page to reach the state (Playwright's default is 5): under
# a parallel run on two loaded cores a sign, with its hash and the page after it, took longer
# than 5 s. A passing assertion returns as soon as the state holds, so this only moves how long
# a failing one waits.
expect.set_options(timeout=10_000)

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


class _InFlight:
    """The live server's WSGI app, counting the requests it is still answering: from the call
    until the server closes the answer (after its last byte is sent), as WSGI has it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0
        self.lock = threading.Lock()

    def _done(self) -> None:
        with self.lock:
            self.count -= 1

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self.lock:
            self.count += 1
        try:
            answer = self.app(environ, start_response)
        except BaseException:
            self._done()
            raise
        return _Answer(answer, self._done)


class _Answer:
    """A WSGI answer whose close() (which the server always calls) also tells _InFlight."""

    def __init__(self, answer: Any, done: Any) -> None:
        self.answer, self.done = answer, done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.answer)

    def close(self) -> None:
        try:
            if hasattr(self.answer, "close"):
                self.answer.close()
        finally:
            self.done()


@pytest.fixture(autouse=True)
def _answered_before_the_database_is_emptied(request: pytest.FixtureRequest) -> Iterator[None]:
    """A page closed at the end of a test may leave a request (an autosave its last keystroke
    scheduled) still running in the live server. If the test database is emptied under it, the
    TRUNCATE and the request's row locks deadlock and the next test starts on the old rows. This
    fixture is set up after pytest-django's database fixture and before the page, so it is torn
    down after the page is closed and before the database is emptied: it closes every other
    browser context the test opened and waits until the live server has answered everything."""
    if "live_server" not in request.fixturenames:
        yield
        return
    httpd = request.getfixturevalue("live_server").thread.httpd
    if not isinstance(httpd.get_app(), _InFlight):
        httpd.set_app(_InFlight(httpd.get_app()))
    browser = request.getfixturevalue("browser") if "browser" in request.fixturenames else None
    yield
    # The contexts a test opened itself (two tabs, two people: `browser.new_context()`) are
    # closed too. Left open, their pages kept polling every second through the tests that came
    # after, in the same Chromium and against the same live server, on a database emptied under
    # them; a long run slowed down as they piled up.
    for context in list(browser.contexts) if browser is not None else []:
        context.close()
    counter: _InFlight = httpd.get_app()
    # Idle twice, 0.1 s apart: a request the closed page sent just before may still be on its
    # way from the socket to the app.
    deadline = time.monotonic() + 30
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        quiet = 0 if counter.count else quiet + 1
        time.sleep(0.1 if counter.count == 0 else 0.02)


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
