"""Audit rows for reads that are not a client page: the client search (hashed, with the count
shown), the client edit form, the export job page, and every refused access."""

import pytest
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.audit.services import query_fingerprint
from sessions.services.clients import client_create
from sessions.services.exports import export_single_request
from tests.conftest import login
from tests.factories import NoteFactory

pytestmark = pytest.mark.django_db


def test_client_search_is_audited_with_a_keyed_hash_and_the_count_shown(
    counselor_client, counselor
):
    client_create(user=counselor, alias="Jordan, blue jacket", phone="555-010-4477")
    client_create(user=counselor, alias="Jordan, red hat")
    counselor_client.post(reverse("crisis_sessions:client_search"), {"q": "  JORDAN "})
    event = AuditEvent.objects.get(action=Action.SEARCH)
    assert event.actor == counselor and event.clinic == counselor.clinic
    assert event.summary == f"Client search {query_fingerprint('jordan')}: 2 result(s) shown"
    counselor_client.post(reverse("crisis_sessions:client_search"), {"q": "555 010 4477"})
    texts = " ".join(AuditEvent.objects.values_list("summary", flat=True))
    assert "ordan" not in texts and "555" not in texts and "4477" not in texts
    assert "1 result(s) shown" in texts
    # An empty box (the page opening) is not a search.
    counselor_client.get(reverse("crisis_sessions:client_search"))
    assert AuditEvent.objects.filter(action=Action.SEARCH).count() == 2


def test_opening_the_client_edit_form_is_audited(counselor_client, counselor):
    record = client_create(user=counselor, alias="Caller, green scarf")
    response = counselor_client.get(reverse("crisis_sessions:client_edit", args=[record.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(record.pk)).get()
    assert event.summary == "Opened the client edit form" and event.actor == counselor


def test_opening_the_export_job_page_is_audited(counselor_client, counselor):
    job = export_single_request(
        actor=counselor, note=NoteFactory.create(signed=True, high_risk=True, author=counselor)
    )
    response = counselor_client.get(reverse("crisis_sessions:export_detail", args=[job.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=Action.VIEW, object_type="crisis_sessions.exportjob")
    assert event.object_id == str(job.pk) and event.actor == counselor


def test_a_refused_read_of_another_clinics_note_is_a_denied_event(client, counselor, outsider):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    login(client, outsider)
    response = client.get(note.get_absolute_url(), REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 404
    event = AuditEvent.objects.get(action=Action.DENIED)
    assert event.actor == outsider and event.clinic == outsider.clinic
    assert event.object_type == "crisis_sessions:note_detail"
    assert event.object_id == f"note_id={note.pk}"
    assert event.summary.startswith("404 GET") and event.ip_address == "192.0.2.44"


def test_a_missing_role_is_a_denied_event(counselor_client, counselor):
    response = counselor_client.get(reverse("accounts:user_list"))
    assert response.status_code == 403
    event = AuditEvent.objects.get(action=Action.DENIED)
    assert event.actor == counselor and event.object_type == "accounts:user_list"
    assert event.summary == "403 GET /clinic/users/"
