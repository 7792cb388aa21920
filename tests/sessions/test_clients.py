from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from crisisnotes.audit.models import Action, AuditEvent
from sessions.selectors.clients import client_get, client_search
from sessions.services.clients import client_create, client_update

pytestmark = pytest.mark.django_db


def test_an_alias_is_enough_for_a_client(counselor):
    client = client_create(user=counselor, alias="Caller, blue jacket")
    assert client.clinic == counselor.clinic and client.name == ""
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(client.pk)).exists()


def test_a_client_needs_an_alias(counselor):
    with pytest.raises(ValidationError):
        client_create(user=counselor, alias="  ")


def test_search_matches_alias_name_and_phone_digits(counselor):
    jacket = client_create(user=counselor, alias="Caller, blue jacket")
    jordan = client_create(user=counselor, alias="Night caller", name="Jordan Fictional")
    phone = client_create(user=counselor, alias="Texter", phone="(555) 010-4477")
    assert list(client_search(user=counselor, q="BLUE")) == [jacket]
    assert list(client_search(user=counselor, q="jordan")) == [jordan]
    assert list(client_search(user=counselor, q="555-010-44")) == [phone]
    assert list(client_search(user=counselor, q="5550104477")) == [phone]


def test_search_and_get_are_scoped_to_the_clinic(counselor, outsider):
    foreign = client_create(user=outsider, alias="Caller, blue jacket")
    assert list(client_search(user=counselor, q="blue")) == []
    with pytest.raises(Http404):
        client_get(user=counselor, client_id=foreign.pk)


def test_client_update_audits_the_changed_fields(counselor):
    client = client_create(user=counselor, alias="Caller")
    client_update(user=counselor, client=client, pronouns="they/them", alias="Caller")
    event = AuditEvent.objects.get(action=Action.UPDATE, object_id=str(client.pk))
    assert event.summary == "client changed: pronouns"


def test_timeline_rows_are_the_markup_of_the_template_loop_they_replace(
    counselor, teammate, supervisor
):
    """client_timeline_rows builds the client page's timeline rows in Python for speed: it must
    give exactly what the template loop gave (tests/sessions/rows_before_client_timeline_rows
    .html) for every status, risk, modality and link, escaping and translations included, in
    other time zones and Spanish, from the timeline's own narrow query (no query per row)."""
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.template import Context, Template
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone, translation

    from sessions.models.notes import NoteStatus, RiskLevel
    from sessions.policies import can_open_note
    from sessions.selectors.clients import client_sessions
    from sessions.templatetags.client_tags import client_timeline_rows
    from tests.factories import ClientFactory, NoteFactory

    at = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))
    record = ClientFactory(clinic=counselor.clinic)
    teammate.full_name = "Dr <Odd> & co"
    teammate.save()
    NoteFactory(author=counselor, client=record, started_at=at, modality="phone")
    NoteFactory(
        author=teammate,
        client=record,
        started_at=at - timedelta(days=3),
        modality="text",
        status=NoteStatus.SIGNED,
        screen_risk=RiskLevel.HIGH,
        late_entry=True,
    )
    NoteFactory(author=teammate, client=record, started_at=at - timedelta(hours=5))
    NoteFactory(
        author=teammate,
        client=record,
        awaiting_cosign=True,
        started_at=at - timedelta(days=9),
        clinician_risk=RiskLevel.LOW,
        screen_risk=RiskLevel.MODERATE,
    )
    loop = Path(__file__).with_name("rows_before_client_timeline_rows.html").read_text()
    template = Template(loop)
    for reader in (counselor, supervisor):
        with CaptureQueriesContext(connection) as queries:
            notes = list(client_sessions(user=reader, client=record))
            timeline = [(note, can_open_note(user=reader, note=note)) for note in notes]
            rows = client_timeline_rows(timeline)
        assert len(queries) == 1 and len(notes) == 4
        assert {can for _, can in timeline} == {True, False}
        for zone, language in (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en")):
            with timezone.override(ZoneInfo(zone)), translation.override(language):
                expected = template.render(Context({"timeline": timeline}))
                assert expected.count("<tr>") == 4 and "&lt;Odd&gt; &amp; co" in expected
                assert "    " + client_timeline_rows(timeline) + "\n" == expected
        assert rows.count("<a href=") == sum(can for _, can in timeline)
