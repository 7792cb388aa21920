import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("username", "path", "heading"),
    [
        ("counselor", "/work/", "My work"),
        ("trainee", "/work/", "My work"),
        ("supervisor", "/team/", "Team"),
        ("admin", "/clinic/", "Demo Crisis Clinic"),
    ],
)
def test_each_demo_role_lands_on_its_home(page: Page, live_server, demo, username, path, heading):
    log_in(page, live_server.url, username)
    expect(page).to_have_url(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_test_id("current-user")).to_contain_text("Demo Crisis Clinic")


def test_supervisor_who_also_counsels_reaches_their_own_work_from_the_menu(
    page: Page, live_server, demo
):
    log_in(page, live_server.url, "supervisor")
    page.get_by_role("link", name="My work").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")


def test_wrong_password_shows_an_error(page: Page, live_server, demo):
    log_in(page, live_server.url, "counselor", password="not-the-password")
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(
        page.get_by_text("username and/or password you specified are not correct")
    ).to_be_visible()


def test_logged_out_user_is_sent_to_login(page: Page, live_server, demo):
    page.goto(f"{live_server.url}/work/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/work/$"))
    log_in(page, live_server.url, "counselor")
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server.url}/work/")
    expect(page).to_have_url(re.compile(r"/login/"))
