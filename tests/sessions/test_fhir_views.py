"""The FHIR (JSON) download on a signed note: same selector and roles as the PDF export,
another clinic gets 404, drafts have none, and every download is audited."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from tests.conftest import login
from tests.factories import NoteFactory
from tests.safety.fhir_records import high_risk_note, resources_of, validate_bundle

pytestmark = pytest.mark.django_db


def url(note):
    return reverse("crisis_sessions:note_fhir_download", args=[note.pk])


def exports_of(note):
    return AuditEvent.objects.filter(
        action=Action.EXPORT, object_type="crisis_sessions.crisissession", object_id=str(note.pk)
    )


def test_signed_note_downloads_as_a_valid_bundle_and_is_audited(
    client, counselor, teammate, clinic_admin
):
    note = high_risk_note(counselor)
    for user in (counselor, teammate, clinic_admin):
        response = login(client, user).get(url(note), HTTP_USER_AGENT="pytest-agent")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+json"
        assert response["Content-Disposition"] == (
            f'attachment; filename="session-{note.pk}-fhir-r4.json"'
        )
        bundle = json.loads(response.content)
        validate_bundle(bundle)
        assert resources_of(bundle, "Encounter")[0]["id"] == f"session-{note.pk}"
        event = exports_of(note).filter(actor=user).get()
        assert event.clinic_id == note.clinic_id
        assert event.user_agent == "pytest-agent"
        assert "FHIR" in event.summary
    assert exports_of(note).count() == 3


def test_another_clinic_gets_404_and_nothing_is_audited(client, counselor, outsider):
    note = high_risk_note(counselor)
    assert login(client, outsider).get(url(note)).status_code == 404
    assert not exports_of(note).exists()


def test_a_draft_has_no_fhir_download(client, counselor):
    draft = NoteFactory.create(author=counselor)
    assert login(client, counselor).get(url(draft)).status_code == 404
    assert not exports_of(draft).exists()


def test_anonymous_user_is_sent_to_login(client, counselor):
    note = high_risk_note(counselor)
    response = client.get(url(note))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not exports_of(note).exists()


def test_signed_note_page_links_the_download_and_a_draft_page_does_not(client, counselor):
    login(client, counselor)
    note = high_risk_note(counselor)
    assert url(note) in client.get(note.get_absolute_url()).content.decode()
    draft = NoteFactory.create(author=counselor)
    assert url(draft) not in client.get(draft.get_absolute_url()).content.decode()


def test_download_query_count_does_not_grow_with_the_record(client, counselor, teammate):
    """A fixed number of queries however many attempts the follow-ups gather after signing
    (tasks themselves are fixed with the signed note: the database refuses new ones)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions.models import FollowUpAttempt, FollowUpTask

    note = high_risk_note(counselor, assignee=teammate)
    login(client, counselor)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(note)).status_code == 200
    for task in list(FollowUpTask.objects.filter(session=note, closed_at__isnull=True)):
        for _ in range(3):
            FollowUpAttempt.objects.create(
                task=task, attempted_at=task.due_at, method="call", outcome="no_answer", by=teammate
            )
    with CaptureQueriesContext(connection) as large:
        assert client.get(url(note)).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
