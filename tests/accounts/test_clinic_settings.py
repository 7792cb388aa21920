"""The clinic's settings: time zone everywhere (pages, PDFs, e-mails, "today"), the settings page
(changes take effect and are audited), the community resource directory."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from pypdf import PdfReader

from crisisnotes.accounts.clinic_services import ClinicSettingsError, clinic_settings_update
from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import Notification
from sessions.models import CommunityResource
from sessions.services.exports import record_pdf
from sessions.services.followups import followup_default_due, followup_scan
from tests.conftest import login
from tests.factories import FollowUpTaskFactory, NoteFactory

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def la_clinic(clinic: Clinic) -> Clinic:
    clinic.time_zone = "America/Los_Angeles"
    clinic.save(update_fields=["time_zone"])
    return clinic


def test_a_session_at_2248_in_los_angeles_reads_2248_on_the_page_and_in_the_pdf(
    la_clinic: Clinic, counselor: User, client: DjangoClient
) -> None:
    started = datetime(2026, 11, 20, 22, 48, tzinfo=LA)  # 06:48 UTC the next day
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor, started_at=started)
    login(client, counselor)
    page = client.get(reverse("crisis_sessions:note_detail", args=[note.pk])).content.decode()
    assert "2026-11-20 22:48" in page and "06:48" not in page
    assert 'data-testid="clinic-time-zone">America/Los_Angeles<' in page
    timeline = client.get(reverse("crisis_sessions:client_detail", args=[note.client_id]))
    assert "2026-11-20" in timeline.content.decode()
    # The PDF renders in a worker, with no request: the clinic's zone still applies.
    text = " ".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(record_pdf(note=note, generated_by=None))).pages
    )
    assert "2026-11-20 22:48" in text and "America/Los_Angeles" in text


def test_emails_name_the_due_time_in_the_clinics_zone(la_clinic: Clinic, counselor: User) -> None:
    task = FollowUpTaskFactory(
        session__clinic=la_clinic,
        session__author=counselor,
        due_at=datetime(2026, 11, 21, 9, 30, tzinfo=LA),
    )
    followup_scan(now=task.due_at)
    message = Notification.objects.get(event_key=f"followup:{task.pk}:reminder").message
    assert "2026-11-21 09:30 (America/Los_Angeles)" in message


def test_settings_page_changes_take_effect_and_are_audited(
    client: DjangoClient, clinic_admin: User, counselor: User, clinic: Clinic
) -> None:
    login(client, clinic_admin)
    url = reverse("accounts:clinic_settings")
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if name in form.fields}
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    data.update(followup_due_hours_high=12, time_zone="Europe/Berlin", cosign_all_high_risk="on")
    response = client.post(url, data)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.followup_due_hours_high, clinic.time_zone, clinic.cosign_all_high_risk) == (
        12,
        "Europe/Berlin",
        True,
    )
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="accounts.clinic")
    assert "Follow-up due after high risk (hours): 24 → 12" in event.summary
    assert "Time zone: UTC → Europe/Berlin" in event.summary
    assert event.actor == clinic_admin
    # In effect: the default due time of a high-risk follow-up, and the pages' zone.
    note = NoteFactory.create(
        signed=True, author=counselor, screen_risk="high", clinician_risk="high"
    )
    assert followup_default_due(note=note) == note.ended_at + __import__("datetime").timedelta(
        hours=12
    )
    assert "Europe/Berlin" in client.get(url).content.decode()


def test_bad_settings_say_why_and_save_nothing(
    client: DjangoClient, clinic_admin: User, clinic: Clinic
) -> None:
    login(client, clinic_admin)
    url = reverse("accounts:clinic_settings")
    response = client.post(
        url,
        {
            "time_zone": "Mars/Olympus_Mons",
            "followup_due_hours_high": 0,
            "followup_due_hours_moderate": 72,
            "followup_grace_hours": 4,
            "followup_reminder_lead_minutes": 60,
            "followup_max_attempts": 5,
            "late_entry_hours": 24,
            "export_link_hours": 24,
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in body and "greater than or equal to 1" in body
    clinic.refresh_from_db()
    assert clinic.time_zone == "UTC" and clinic.followup_due_hours_high == 24
    assert not AuditEvent.objects.filter(object_type="accounts.clinic").exists()


def test_only_the_clinics_admin_changes_its_settings(
    client: DjangoClient, counselor: User, outsider: User, clinic: Clinic
) -> None:
    login(client, counselor)
    assert client.get(reverse("accounts:clinic_settings")).status_code == 403
    with pytest.raises(ClinicSettingsError):
        clinic_settings_update(actor=outsider, clinic=clinic, changes={"late_entry_hours": 1})


def test_resource_directory_add_edit_retire_audited(
    client: DjangoClient, clinic_admin: User, clinic: Clinic, outsider: User
) -> None:
    login(client, clinic_admin)
    url = reverse("crisis_sessions:resource_list")
    response = client.post(
        url, {"category": "shelter", "name": "Harbour Night Shelter", "contact": "555-010-0404"}
    )
    assert response.status_code == 302
    resource = CommunityResource.objects.get(clinic=clinic, name="Harbour Night Shelter")
    bad = client.post(url, {"category": "shelter", "name": "", "contact": ""})
    assert "This field is required" in bad.content.decode()
    client.post(
        reverse("crisis_sessions:resource_edit", args=[resource.pk]),
        {"category": "shelter", "name": "Harbour Night Shelter", "contact": "555-010-0505"},
    )
    client.post(reverse("crisis_sessions:resource_active", args=[resource.pk]), {"active": "0"})
    resource.refresh_from_db()
    assert (resource.contact, resource.active) == ("555-010-0505", False)
    summaries = list(
        AuditEvent.objects.filter(object_type="crisis_sessions.communityresource")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert summaries[0].startswith("Resource added: Shelter: Harbour Night Shelter")
    assert "555-010-0404" in summaries[1] and "555-010-0505" in summaries[1]
    assert summaries[2] == "Resource retired: Harbour Night Shelter"
    login(client, outsider)
    edit = client.get(reverse("crisis_sessions:resource_edit", args=[resource.pk]))
    assert edit.status_code == 404


def test_clinical_rules_page_shows_the_document(client: DjangoClient, counselor: User) -> None:
    login(client, counselor)
    page = client.get(reverse("clinical_rules")).content.decode()
    assert "Sign and risk rules" in page and "C-SSRS" in page


def test_idle_timeout_and_two_factor_policy_are_clinic_settings_audited(
    client: DjangoClient, clinic_admin: User, clinic: Clinic
) -> None:
    login(client, clinic_admin)
    url = reverse("accounts:clinic_settings")
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if name in form.fields}
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    response = client.post(url, {**data, "idle_timeout_minutes": 0})
    assert response.status_code == 200  # refused with its message, nothing saved
    clinic.refresh_from_db()
    assert clinic.idle_timeout_minutes == 15
    response = client.post(url, {**data, "idle_timeout_minutes": 5, "require_mfa": "on"})
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.idle_timeout_minutes, clinic.require_mfa) == (5, True)
    event = AuditEvent.objects.filter(action=Action.UPDATE, object_type="accounts.clinic").get()
    assert "15 → 5" in event.summary
