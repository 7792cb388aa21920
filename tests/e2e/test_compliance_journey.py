"""Browser: a clinic admin finds who opened a given client's record last week, narrows to one
user, downloads the CSV, and prints the client's accounting of disclosures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from safety.models import DisclosureType
from safety.services import disclosure_record
from sessions.models import Client
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ALIAS = "Returning caller, night shift"


def test_admin_finds_who_opened_a_client_last_week_and_prints_the_accounting(
    page: Page, live_server, demo
) -> None:
    client = Client.objects.get(alias=ALIAS)
    counselor = User.objects.get(username="counselor")
    supervisor = User.objects.get(username="supervisor")
    trainee = User.objects.get(username="trainee")
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=4)):
        audit_record(action=Action.VIEW, actor=counselor, obj=client)
        audit_record(action=Action.VIEW, actor=supervisor, obj=client)
    with time_machine.travel(now - timedelta(days=30)):
        audit_record(action=Action.VIEW, actor=trainee, obj=client)
    disclosure_record(
        actor=User.objects.get(username="admin"),
        client=client,
        data={
            "type": DisclosureType.COURT_ORDER,
            "legal_basis": "Subpoena 26-0417 (invented)",
            "recipient": "Bayview County Court",
            "disclosed_at": now - timedelta(days=2),
            "information_disclosed": "Two session records",
            "purpose": "Production under subpoena",
            "individual_informed": True,
        },
    )

    log_in(page, live_server.url, "admin")
    page.get_by_role("link", name="Audit log", exact=True).click()
    today = timezone.localdate()
    page.get_by_label("Client").fill(ALIAS)
    page.get_by_label("From").fill((today - timedelta(days=7)).isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Access report of this client").click()
    expect(page.get_by_role("heading", name=f"Access report: {ALIAS}")).to_be_visible()
    # The report keeps the week: the counselor and the supervisor, not the trainee (30 days ago).
    page.get_by_label("From").fill((today - timedelta(days=7)).isoformat())
    page.get_by_label("To").fill(today.isoformat())
    page.get_by_role("button", name="Filter").click()
    who = page.locator("#people-heading + table")
    expect(who).to_contain_text("Robin Example")
    expect(who).to_contain_text("Morgan Sample")
    expect(who).not_to_contain_text("Sam Placeholder")

    page.get_by_label("User").select_option(label="Robin Example (counselor)")
    page.get_by_role("button", name="Filter").click()
    events = page.locator("#audit-events")
    expect(events).to_contain_text("Robin Example")
    expect(events).not_to_contain_text("Morgan Sample")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert rows and {row["username"] for row in rows} == {"counselor"}
    assert {row["client"] for row in rows} == {ALIAS}

    page.get_by_role("link", name="Accounting of disclosures").click()
    expect(page.get_by_test_id("disclosure-row")).to_contain_text("Bayview County Court")
    href = page.get_by_role("link", name="Print accounting (PDF)").get_attribute("href")
    assert href
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    text = " ".join(text.split())
    assert "Accounting of disclosures" in text and "Bayview County Court" in text
    assert ALIAS in text
