"""Languages in a real browser: a counselor who reads the app in English prints the client copy
of a safety plan in Spanish for a Spanish-speaking client, with the clinic's emergency number."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from crisisnotes.accounts.models import Clinic, User
from safety.services import plan_default_steps, safety_plan_save
from sessions.models import Client
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SPANISH_CLIENT = "Llamada en español, turno de tarde"  # seeded by sessions/services/demo.py


def spanish_plan() -> Client:
    """The clinic sets its own emergency number and crisis line; the client has a plan."""
    clinic = Clinic.objects.get(slug="demo-clinic")
    clinic.emergency_number = "112"
    clinic.crisis_lines = [{"name": "Línea de la Vida (inventada)", "phone": "800-010-2000"}]
    clinic.save()
    client = Client.objects.get(alias=SPANISH_CLIENT)
    assert client.language == "es"
    steps = plan_default_steps(client=client)
    steps.update(
        warning_signs=["No puedo dormir"],
        coping=["Caminar por el parque"],
        help=[{"name": "Tía Rosa (inventada)", "phone": "555-010-3344"}],
        environment=["Mi hermana guarda las pastillas"],
    )
    safety_plan_save(
        actor=User.objects.get(username="counselor"), client=client, steps=steps, fields={}
    )
    return client


def test_english_counselor_prints_a_spanish_client_copy(page: Page, live_server, demo) -> None:
    client = spanish_plan()
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})
    log_in(page, base, "counselor")
    page.get_by_role("link", name="Clients").click()
    page.keyboard.type("español")
    page.get_by_test_id("client-results").get_by_role("link", name=SPANISH_CLIENT).click()
    # The counselor's own pages stay in English.
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.locator("#client-safety-plan").get_by_role("link", name="Client copy").click()
    expect(page).to_have_url(re.compile(rf"/safety/clients/{client.pk}/plan/copy/?$"))

    # The copy itself is in Spanish, with the clinic's numbers and never a hard-coded 911.
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi plan de seguridad")
    expect(page.get_by_text("Personas a las que puedo pedir ayuda")).to_be_visible()
    emergency = page.get_by_test_id("emergency")
    expect(emergency).to_have_text(
        "En una emergencia, llame al 112 o vaya a la sala de emergencias más cercana."
    )
    # The clinic's crisis lines, pre-filled in step 5 when the plan was made.
    expect(page.locator("main")).to_contain_text("Línea de la Vida (inventada) — 800-010-2000")
    assert "911" not in page.content()
    # The bar above it is the counselor's, in English, and is not printed.
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()

    pdf_url = page.get_by_role("link", name="Download PDF").get_attribute("href")
    response = page.request.get(f"{base}{pdf_url}")
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(response.body())).pages[0].extract_text().split())
    assert "Mi plan de seguridad" in text and "Tía Rosa (inventada)" in text
    assert "llame al 112" in text and "911" not in text
