"""The client copy of the safety plan is in the client's language, with the clinic's emergency
number and crisis lines; the plan's pre-filled step 5 comes from the clinic, in that language."""

from __future__ import annotations

import io

from django.test import Client as DjangoClient
from django.urls import reverse
from pypdf import PdfReader

from crisisnotes.accounts.models import Clinic, User
from safety.services import plan_default_steps, safety_plan_save
from sessions.models import Client
from tests.factories import ClientFactory
from tests.safety.test_views import plan_for

SPANISH_LINE = {"name": "Línea de la Vida (inventada)", "phone": "800-010-2000"}


def spanish_client(counselor: User, *, emergency: str = "112") -> Client:
    clinic = counselor.clinic
    assert isinstance(clinic, Clinic)
    clinic.emergency_number = emergency
    clinic.crisis_lines = [SPANISH_LINE]
    clinic.save()
    return ClientFactory(clinic=clinic, created_by=counselor, language="es")


def test_client_copy_is_in_the_clients_language_with_the_clinics_numbers(
    counselor_client: DjangoClient, counselor: User
) -> None:
    assert counselor.language in ("", "en")
    client = spanish_client(counselor)
    plan_for(client, counselor)
    response = counselor_client.get(reverse("safety:plan_copy", args=[client.pk]))
    html = response.content.decode()
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in html
    assert "Mi plan de seguridad" in html and "My safety plan" not in html
    assert "Señales de alerta de que puede venir una crisis" in html
    assert "En una emergencia, llame al 112" in html
    assert "911" not in html
    # The pre-filled emergency-department line was written in Spanish, then dropped unfilled.
    assert "Sala de emergencias" not in html and "emergency department" not in html
    # The clinic's lines are printed once, even though step 5 already lists them.
    assert html.count("800-010-2000") == 1 and html.count("555-010-0000") == 1
    # The bar above the copy is the counselor's: still in English.
    assert "Download PDF" in html and "(Spanish)" in html


def test_client_copy_pdf_is_in_the_clients_language(
    counselor_client: DjangoClient, counselor: User
) -> None:
    client = spanish_client(counselor, emergency="066")
    plan_for(client, counselor)
    response = counselor_client.get(reverse("safety:plan_copy_pdf", args=[client.pk]))
    text = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "Mi plan de seguridad" in text
    assert "Personas a las que puedo pedir ayuda" in text
    assert "llame al 066" in text and "911" not in text
    assert "Línea de la Vida (inventada)" in text


def test_english_client_gets_the_english_copy_even_from_a_spanish_interface(
    client: DjangoClient, counselor: User
) -> None:
    counselor.language = "es"
    counselor.save()
    from tests.conftest import login

    login(client, counselor)
    english = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    plan_for(english, counselor)
    html = client.get(reverse("safety:plan_copy", args=[english.pk])).content.decode()
    assert "My safety plan" in html and "In an emergency, call 911" in html
    assert "Descargar PDF" in html  # the counselor's own bar


def test_new_plan_prefills_the_clinics_lines_and_a_placeholder_in_the_clients_language(
    counselor: User,
) -> None:
    client = spanish_client(counselor)
    professionals = plan_default_steps(client=client)["professionals"]
    assert professionals == [
        SPANISH_LINE,
        {"name": "Test Crisis Line", "phone": "555-010-0000"},
        {"name": "Sala de emergencias más cercana", "phone": ""},
    ]
    version, _created = safety_plan_save(
        actor=counselor, client=client, steps=plan_default_steps(client=client), fields={}
    )
    names = [e["name"] for e in version.steps["professionals"]]
    assert "Sala de emergencias más cercana" not in names  # no number: not a contact


def test_default_clinic_lines_are_the_national_988_line(counselor: User) -> None:
    english = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    professionals = plan_default_steps(client=english)["professionals"]
    assert professionals[0]["phone"] == "988"
    assert professionals[-1] == {"name": "Nearest emergency department", "phone": ""}


def test_counselor_sets_the_clients_language_on_the_client_form(
    counselor_client: DjangoClient, counselor: User
) -> None:
    english = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    url = reverse("crisis_sessions:client_edit", args=[english.pk])
    assert 'name="language"' in counselor_client.get(url).content.decode()
    response = counselor_client.post(url, {"alias": english.alias, "language": "es"})
    assert response.status_code == 302
    english.refresh_from_db()
    assert english.language == "es"
    # A post without the field keeps it.
    counselor_client.post(url, {"alias": english.alias, "pronouns": "she/her"})
    english.refresh_from_db()
    assert english.language == "es"
