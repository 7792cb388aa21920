from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404

from crisisnotes.audit.models import Action, AuditEvent
from sessions.selectors.clients import client_get, client_search
from sessions.services.clients import client_create, client_update

pytestmark = pytest.mark.django_db


def test_an_alias_is_enough_for_a_client(counselor):
    client = client_create(user=counselor, alias="Caller, blue jacket")
    assert client.clinic == counselor.clinic and client.name == ""
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(client.pk)).exists()


def test_creating_a_client_checks_no_row_it_was_given(counselor):
    """The clinic and creator are the signed-in user's loaded rows: validation still runs (the
    alias, the fields' choices) but reads neither back; the client row and its audit row are
    the only statements besides the transaction's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client = client_create(user=counselor, alias="Caller, red scarf", age_range="25_44")
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert reads == []
    assert client.clinic_id == counselor.clinic_id and client.created_by_id == counselor.pk
    with pytest.raises(ValidationError):
        client_create(user=counselor, alias="Caller", age_range="not a range")


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
    other time zones and Spanish, from the timeline's own query read as values (no query per
    row); the template loop read the notes as models."""
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.template import Context, Template
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone, translation

    from sessions.models.notes import NoteStatus, RiskLevel
    from sessions.policies import can_open_note
    from sessions.selectors.clients import client_sessions, client_timeline
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
        notes = list(client_sessions(user=reader, client=record))
        before = [(note, can_open_note(user=reader, note=note)) for note in notes]
        with CaptureQueriesContext(connection) as queries:
            found = client_timeline(user=reader, client=record, limit=20, show_all=False).rows
            timeline = [(row, can_open_note(user=reader, note=row)) for row in found]
            rows = client_timeline_rows(timeline)
        assert len(queries) == 1 and len(notes) == 4
        assert [row.pk for row in found] == [note.pk for note in notes]
        assert [can for _, can in timeline] == [can for _, can in before]
        assert {can for _, can in timeline} == {True, False}
        for zone, language in (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en")):
            with timezone.override(ZoneInfo(zone)), translation.override(language):
                expected = template.render(Context({"timeline": before}))
                assert expected.count("<tr>") == 4 and "&lt;Odd&gt; &amp; co" in expected
                assert "    " + client_timeline_rows(timeline) + "\n" == expected
        assert rows.count("<a href=") == sum(can for _, can in timeline)


@pytest.fixture
def language_kept():
    """The language middleware activates each reader's language and leaves it active after the
    request: the tests that read pages in Spanish put the one before them back."""
    from django.utils import translation

    with translation.override(translation.get_language()):
        yield


def _page(client, url: str) -> bytes:
    """A page as served, its per-response tokens (CSRF, CSP nonce) blanked."""
    import re

    page = client.get(url).content
    page = re.sub(rb'"[A-Za-z0-9]{64}"', b'"csrf"', page)  # a masked CSRF token
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', page)


def _trend_rows_before(*, user, client):
    """The risk trend's read as it was (c30c9fa): notes with their exploration stage, as
    models, its SUDS taken from the stage when there is one."""
    from sessions.models import CrisisSession
    from sessions.models.notes import NoteStatus
    from sessions.selectors.review import TrendRow

    notes = list(
        CrisisSession.objects.filter(clinic=user.clinic, client=client)
        .filter(~Q(status=NoteStatus.DRAFT) | Q(author=user))
        .select_related("exploration")
        .only(
            "started_at",
            "screen_risk",
            "clinician_risk",
            "imminent",
            "exploration__suds_start",
            "exploration__suds_end",
        )
        .order_by("-started_at", "-id")[:20]
    )
    rows = []
    for note in reversed(notes):
        try:
            suds = (note.exploration.suds_start, note.exploration.suds_end)
        except CrisisSession.exploration.RelatedObjectDoesNotExist:
            suds = (None, None)
        rows.append(
            TrendRow(note.started_at, note.screen_risk, note.clinician_risk, note.imminent, *suds)
        )
    return rows


def _timeline_before(*, user, client, limit, show_all):
    """The timeline's reads as they were (c30c9fa): bounded_rows, a count when there are more."""
    from crisisnotes.http import bounded_rows
    from sessions.selectors.clients import Timeline, TimelineRow, client_sessions

    notes, total = bounded_rows(
        client_sessions(user=user, client=client), limit=limit, show_all=show_all
    )
    # The rows the page reads now (values), made from the notes read as models.
    rows = [
        TimelineRow(
            **{f: getattr(n, f) for f in TimelineRow._fields[:-1]},
            author_name=n.author.display_name,
        )
        for n in notes
    ]
    return Timeline(rows=rows, total=total, has_addenda=True, has_followups=True)


@pytest.mark.parametrize("sessions", [0, 3, 20, 23])
def test_client_page_is_the_page_of_the_reads_it_replaces(
    client, counselor, teammate, supervisor, sessions, monkeypatch, language_kept
):
    """The client page reads its timeline, their count and whether it has addenda and open
    follow-ups to list in one query, and the risk trend as values: the page must be byte for
    byte the page of the reads they replace, with none, a few, exactly the shown number and
    more sessions, all of them and not, SUDS or none, addenda and follow-ups or none, in New
    York time and in Spanish, for a counselor and a supervisor."""
    from datetime import UTC, datetime, timedelta

    from django.urls import reverse

    from sessions import risk_trend
    from sessions.models import Addendum, Client, ExplorationStage, FollowUpTask
    from sessions.models.followups import FollowUpMethod
    from sessions.models.notes import AddendumKind, RiskLevel
    from sessions.views import clients as views
    from tests.conftest import login
    from tests.factories import ClientFactory, NoteFactory

    record: Client = ClientFactory(clinic=counselor.clinic, alias="Caller <7>")
    start = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    for i in range(sessions):
        author = (counselor, teammate)[i % 2]
        traits = {"signed": True} if i % 3 else {}
        note = NoteFactory.create(
            author=author,
            client=record,
            started_at=start + timedelta(hours=7 * i),
            screen_risk=(RiskLevel.HIGH, RiskLevel.LOW, "")[i % 3],
            imminent=i % 5 == 0,
            **traits,
        )
        if not traits and i % 2 == 0:  # the counselor's drafts: their SUDS may change
            ExplorationStage.objects.filter(session=note).update(suds_start=8, suds_end=i % 10)
        if i == 6:  # a draft without its exploration stage
            ExplorationStage.objects.filter(session=note).delete()
        if i in (2, 22):  # an addendum to a signed note, in and out of the shown sessions
            Addendum.objects.create(
                session=note,
                kind=AddendumKind.CORRECTION,
                text=f"SUDS <{i}>",
                reason="Misheard",
                author=author,
                author_name=author.display_name,
            )
        if i in (3, 18):  # an open follow-up and a closed one (added to drafts)
            FollowUpTask.objects.create(
                clinic=record.clinic,
                session=note,
                client=record,
                assigned_to=author,
                due_at=start + timedelta(days=i),
                method=FollowUpMethod.CALL,
                closed_at=start if i == 18 else None,
            )
    counselor.clinic.time_zone = "America/New_York"
    counselor.clinic.save(update_fields=["time_zone"])
    url = reverse("crisis_sessions:client_detail", args=[record.pk])
    for reader in (counselor, supervisor):
        login(client, reader)
        for language in ("en", "es"):
            reader.language = language
            reader.save(update_fields=["language"])
            for query in ("", "?sessions=all"):
                with time_machine.travel(start + timedelta(days=9), tick=False):
                    new = _page(client, url + query)
                with (
                    time_machine.travel(start + timedelta(days=9), tick=False),
                    monkeypatch.context() as patched,
                ):
                    patched.setattr(views, "client_timeline", _timeline_before)
                    patched.setattr(risk_trend, "client_trend_rows", _trend_rows_before)
                    old = _page(client, url + query)
                assert new == old, (reader, language, query)
                assert b"Caller &lt;7&gt;" in new
                more = b'data-testid="timeline-more"' in new
                assert more is (sessions > 20 and not query)


def test_start_session_radios_are_the_template_loop_they_replace(counselor):
    """start_session_radios renders the client page's modality radios once per language: the
    same markup as the loop the page had (its text kept as START_RADIOS_LOOP), in English and
    Spanish, again after the other language."""
    from django.template import Context, Template
    from django.utils import translation

    from sessions.forms.clients import StartSessionForm
    from sessions.templatetags import client_tags

    former = (
        '{% for radio in start_form.modality %}<div class="form-check form-check-inline">'
        '{{ radio.tag }}<label class="form-check-label" for="{{ radio.id_for_label }}">'
        "{{ radio.choice_label }}</label></div>{% endfor %}"
    )
    assert former == client_tags.START_RADIOS_LOOP
    loop = Template(former)
    client_tags._start_radios.clear()
    for language in ("en", "es", "en", "es"):
        with translation.override(language):
            expected = loop.render(Context({"start_form": StartSessionForm()}))
            assert "checked" in expected and expected.count('type="radio"') >= 3
            assert client_tags.start_session_radios() == expected
    with translation.override("es"):
        spanish = client_tags.start_session_radios()
    with translation.override("en"):
        assert client_tags.start_session_radios() != spanish


def test_timeline_and_trend_sql_are_their_querysets_twins(
    counselor, teammate, supervisor, outsider
):
    """client_timeline and client_trend_rows run statements written once on PostgreSQL, where
    the ORM's (_timeline_queryset, _trend_queryset: the homes of their rules) were built at
    every request: on drafts of the reader's and of others, signed and awaiting notes, a note
    without its exploration stage, addenda and open follow-ups or none, another client's and
    another clinic's sessions, they must give the same rows, bounded and not. The same of the
    open follow-ups as the page lists them (client_open_followup_rows)."""
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from sessions.models import Addendum, ExplorationStage, FollowUpTask
    from sessions.models.followups import FollowUpMethod
    from sessions.models.notes import AddendumKind, RiskLevel
    from sessions.selectors import clients, review
    from tests.factories import ClientFactory, NoteFactory, UserFactory

    assert connection.vendor == "postgresql"
    teammate.full_name = ""  # shown by username
    teammate.save(update_fields=["full_name"])
    record = ClientFactory(clinic=counselor.clinic)
    bare = ClientFactory(clinic=counselor.clinic)  # no addenda, no follow-ups
    other = ClientFactory(clinic=counselor.clinic)
    start = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
    same_start = start + timedelta(days=3)
    for i in range(30):
        traits = ({}, {"signed": True}, {"awaiting_cosign": True})[i % 3]
        note = NoteFactory.create(
            author=(counselor, teammate)[i % 2],
            client=(record, bare)[i % 7 == 6],
            # Two sessions at the same minute: the id breaks the tie.
            started_at=same_start if i in (4, 5) else start + timedelta(hours=5 * i),
            screen_risk=(RiskLevel.HIGH, RiskLevel.LOW, "")[i % 3],
            clinician_risk=("", RiskLevel.MODERATE)[i % 4 == 0],
            imminent=i % 5 == 0,
            late_entry=i % 4 == 1,
            **traits,
        )
        if not traits:  # drafts: a signed note's stages are frozen
            ExplorationStage.objects.filter(session=note).update(suds_start=i % 11, suds_end=i % 7)
        if i == 12:  # a draft without its exploration stage
            ExplorationStage.objects.filter(session=note).delete()
        if i == 2:
            Addendum.objects.create(
                session=note,
                kind=AddendumKind.CORRECTION,
                text="t",
                reason="r",
                author=counselor,
                author_name="x",
            )
        if i in (3, 9, 15):  # open follow-ups (one due at the other's time) and a closed one
            FollowUpTask.objects.create(
                clinic=counselor.clinic,
                session=note,
                client=note.client,
                assigned_to=(counselor, teammate)[i == 15],
                due_at=start,
                method=(FollowUpMethod.CALL, FollowUpMethod.TEXT)[i == 15],
                closed_at=start if i == 9 else None,
            )
    NoteFactory.create(author=counselor, client=other, started_at=start)
    NoteFactory.create(author=UserFactory(clinic=outsider.clinic), started_at=start)
    for reader in (counselor, supervisor):
        for subject in (record, bare, other):
            for limit, show_all in ((20, False), (3, False), (20, True)):
                ours = clients.client_timeline(
                    user=reader, client=subject, limit=limit, show_all=show_all
                )
                orm = list(clients._timeline_queryset(reader, subject))
                if not show_all:
                    orm = orm[:limit]
                assert [(*row[:9], row.author_name) for row in ours.rows] == [
                    (*row[:9], row[9] or row[10]) for row in orm
                ]
                assert (ours.total, ours.has_addenda, ours.has_followups) == orm[0][-3:]
            assert client_trend_rows_orm(review, reader, subject) == review.client_trend_rows(
                user=reader, client=subject
            )
            followups = clients.client_open_followups(user=reader, client=subject)
            assert clients.client_open_followup_rows(user=reader, client=subject) == [
                clients.FollowUpRow(task.method, task.due_at, task.assigned_to.display_name)
                for task in followups
            ]
    assert clients.client_timeline(user=counselor, client=record, limit=3, show_all=False)[1:] == (
        26,
        True,
        True,
    )
    assert clients.client_timeline(user=counselor, client=bare, limit=3, show_all=False)[1:] == (
        4,
        False,
        False,
    )
    tasks = clients.client_open_followup_rows(user=counselor, client=record)
    assert [task.assignee_name for task in tasks] == [counselor.display_name, teammate.username]
    trend = review.client_trend_rows(user=counselor, client=record)
    assert len(trend) == 20 and {row.suds_start is None for row in trend} == {True, False}


def client_trend_rows_orm(review, reader, subject):
    return [review.TrendRow(*row) for row in reversed(review._trend_queryset(reader, subject))]
