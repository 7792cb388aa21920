"""The emergency number and the crisis lines of the client copy are clinic settings."""

from __future__ import annotations

from django.test import Client as DjangoClient
from django.urls import reverse

from crisisnotes.accounts.clinic_forms import ClinicSettingsForm
from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import Action, AuditEvent
from tests.conftest import login


def page_data(client: DjangoClient) -> dict[str, object]:
    form = client.get(reverse("accounts:clinic_settings")).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data["crisis_lines"] = form.fields["crisis_lines"].prepare_value(form.initial["crisis_lines"])
    return {k: v for k, v in data.items() if v is not None and v is not False}


def test_defaults_are_911_and_the_988_line(clinic: Clinic) -> None:
    fresh = Clinic.objects.create(name="New clinic", slug="new-clinic")
    assert fresh.emergency_number == "911"
    assert fresh.crisis_lines == [
        {"name": "988 Suicide & Crisis Lifeline (call or text)", "phone": "988"}
    ]


def test_clinic_admin_sets_the_emergency_number_and_lines_audited(
    client: DjangoClient, clinic_admin: User, clinic: Clinic
) -> None:
    login(client, clinic_admin)
    data = page_data(client)
    assert (
        "988 Suicide &amp; Crisis Lifeline (call or text): 988"
        in client.get(reverse("accounts:clinic_settings")).content.decode()
    )
    data.update(
        emergency_number="112",
        crisis_lines="Teléfono de la Esperanza (invented): 717 003 717\n\nLínea 024: 024",
    )
    response = client.post(reverse("accounts:clinic_settings"), data)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.emergency_number == "112"
    assert clinic.crisis_lines == [
        {"name": "Teléfono de la Esperanza (invented)", "phone": "717 003 717"},
        {"name": "Línea 024", "phone": "024"},
    ]
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.clinic")
    assert "Emergency number: 911 → 112" in event.summary


def test_a_line_without_a_number_is_refused(clinic: Clinic) -> None:
    form = ClinicSettingsForm(instance=clinic)
    data = {name: form[name].value() for name in form.fields}
    data["crisis_lines"] = "Just a name"
    form = ClinicSettingsForm(
        data={k: v for k, v in data.items() if v is not None}, instance=clinic
    )
    assert not form.is_valid()
    assert form.errors["crisis_lines"] == ["Line 1: write the name, a colon, then the number."]


def test_a_spanish_admin_reads_spanish_and_the_audit_log_stays_english(
    client: DjangoClient, clinic_admin: User, clinic: Clinic
) -> None:
    clinic_admin.language = "es"
    clinic_admin.save()
    login(client, clinic_admin)
    data = page_data(client)
    data.update(emergency_number="066")
    response = client.post(reverse("accounts:clinic_settings"), data, follow=True)
    assert "Guardado: Número de emergencias: 911 → 066." in response.content.decode()
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.clinic")
    assert event.summary == "Clinic settings: Emergency number: 911 → 066"
