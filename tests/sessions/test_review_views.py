from pathlib import Path

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import CrisisSession, ReviewComment
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.services.review import note_return
from tests.conftest import login
from tests.factories import NoteFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _return_post(*comments):
    data = {
        "comment-TOTAL_FORMS": "3",
        "comment-INITIAL_FORMS": "0",
        "comment-MIN_NUM_FORMS": "0",
        "comment-MAX_NUM_FORMS": "20",
    }
    for i in range(3):
        section, text = comments[i] if i < len(comments) else ("", "")
        data[f"comment-{i}-section"] = section
        data[f"comment-{i}-text"] = text
    return data


def test_supervisor_sees_only_their_teams_queue(client, clinic, supervisor, trainee, outsider):
    mine = NoteFactory.create(awaiting_cosign=True, author=trainee)
    other_boss = UserFactory(clinic=clinic, is_supervisor=True)
    day_team = TeamFactory(clinic=clinic, name="Day team", supervisor=other_boss)
    other_trainee = UserFactory(clinic=clinic, team=day_team, is_trainee=True)
    theirs = NoteFactory.create(awaiting_cosign=True, author=other_trainee)
    elsewhere = NoteFactory.create(
        awaiting_cosign=True, author=UserFactory(clinic=outsider.clinic, is_trainee=True)
    )

    response = login(client, supervisor).get(reverse("crisis_sessions:review_queue"))

    assert response.status_code == 200
    assert [row.pk for row in response.context["notes"]] == [mine.pk]
    page = response.content.decode()
    assert mine.client.alias in page
    assert theirs.client.alias not in page
    assert elsewhere.client.alias not in page


def test_queue_is_oldest_first_and_filters_by_counselor_and_risk(
    client, supervisor, trainee, counselor
):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    newer = NoteFactory.create(
        awaiting_cosign=True, author=trainee, signed_at=now - timedelta(hours=1)
    )
    older = NoteFactory.create(
        awaiting_cosign=True,
        author=counselor,
        signed_at=now - timedelta(hours=5),
        screen_risk=RiskLevel.HIGH,
    )
    login(client, supervisor)
    url = reverse("crisis_sessions:review_queue")

    def queue(**filters):
        return [row.pk for row in client.get(url, filters).context["notes"]]

    assert queue() == [older.pk, newer.pk]
    assert queue(counselor=trainee.pk) == [newer.pk]
    assert queue(risk="high") == [older.pk]
    assert queue(risk="unassessed") == [newer.pk]


def test_counselor_cannot_cosign_or_open_the_review(counselor_client, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    assert (
        counselor_client.get(reverse("crisis_sessions:review_note", args=[note.pk])).status_code
        == 403
    )
    response = counselor_client.post(reverse("crisis_sessions:review_cosign", args=[note.pk]))
    assert response.status_code == 403
    assert counselor_client.get(reverse("crisis_sessions:review_queue")).status_code == 403
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.AWAITING_COSIGN


def test_cosigning_a_note_of_another_clinic_is_404(client, outsider, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, outsider)
    assert client.post(reverse("crisis_sessions:review_cosign", args=[note.pk])).status_code == 404
    assert (
        client.post(
            reverse("crisis_sessions:review_return", args=[note.pk]), _return_post(("", "x"))
        ).status_code
        == 404
    )
    assert client.get(reverse("crisis_sessions:review_note", args=[note.pk])).status_code == 404
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.AWAITING_COSIGN


def test_a_draft_is_not_open_to_review(client, supervisor, trainee):
    note = NoteFactory.create(author=trainee)
    login(client, supervisor)
    assert client.get(reverse("crisis_sessions:review_note", args=[note.pk])).status_code == 404


def test_supervisor_of_another_team_gets_403(client, clinic, trainee):
    other_boss = UserFactory(clinic=clinic, is_supervisor=True)
    TeamFactory(clinic=clinic, name="Day team", supervisor=other_boss)
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, other_boss)
    assert client.post(reverse("crisis_sessions:review_cosign", args=[note.pk])).status_code == 403


def test_review_page_shows_the_record_with_actions_and_is_audited(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, supervisor)

    response = client.get(reverse("crisis_sessions:review_note", args=[note.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Co-sign and lock" in page
    assert "Return with comments" in page
    assert "Sam Testintern" in page
    assert AuditEvent.objects.filter(
        action=Action.VIEW, actor=supervisor, object_id=str(note.pk)
    ).exists()


def test_cosign_through_the_page(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, supervisor)
    response = client.post(reverse("crisis_sessions:review_cosign", args=[note.pk]))
    assert response.status_code == 302
    assert response.url == reverse("crisis_sessions:review_queue")
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert note.cosigned_by == supervisor
    # Co-signed: out of the queue, and the review page shows both signatures and no actions.
    page = client.get(reverse("crisis_sessions:review_note", args=[note.pk])).content.decode()
    assert "Co-sign and lock" not in page
    assert "Sam Testintern" in page and "Morgan Testsuper" in page


def test_return_through_the_page_keeps_the_comments(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, supervisor)
    response = client.post(
        reverse("crisis_sessions:review_return", args=[note.pk]),
        _return_post(("problem_solving", "Add the client's own words."), ("", "")),
    )
    assert response.status_code == 302
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.DRAFT
    assert list(ReviewComment.objects.values_list("section_key", "text", "round")) == [
        ("problem_solving", "Add the client's own words.", 1)
    ]


def test_return_without_a_comment_is_refused_with_a_message(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, supervisor)
    response = client.post(reverse("crisis_sessions:review_return", args=[note.pk]), _return_post())
    assert response.status_code == 400
    assert "Write at least one comment" in response.content.decode()
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.AWAITING_COSIGN


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("crisis_sessions:review_queue")).status_code == 200
    return len(queries)


def test_queue_query_count_does_not_grow_with_notes(client, supervisor, trainee, counselor):
    login(client, supervisor)
    for author in (trainee, counselor):
        NoteFactory.create(awaiting_cosign=True, author=author)
    with_two = _queue_queries(client)
    # Session, user, clinic, two-factor check, notifications badge; the team's members for the
    # filter; the queue itself (client and author joined).
    assert with_two <= 7, with_two
    for _ in range(3):
        for author in (trainee, counselor):
            NoteFactory.create(awaiting_cosign=True, author=author, screen_risk=RiskLevel.MODERATE)
    assert _queue_queries(client) == with_two


def test_comment_partial_shows_a_sections_comments_beside_its_fields(rf, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_return(
        note=note,
        supervisor=supervisor,
        comments=[("problem_solving", "Which reframe helped?"), ("rapport", "Good.")],
    )
    note.refresh_from_db()
    request = rf.get("/")
    request.user = trainee
    html = render_to_string(
        "sessions/review/partials/note_comments.html",
        {"note": note, "section_key": "problem_solving"},
        request,
    )
    assert "Which reframe helped?" in html
    assert "Good." not in html
    assert "to address" in html


def test_review_actions_partial_shows_actions_only_to_the_teams_supervisor(
    rf, supervisor, trainee, counselor
):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    request = rf.get("/")
    for user, shown in ((supervisor, True), (counselor, False), (trainee, False)):
        request.user = user
        html = render_to_string(
            "sessions/review/partials/note_review_actions.html", {"note": note}, request
        )
        assert ("Co-sign and lock" in html) is shown, user


def _review_page_queries(client, note) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("crisis_sessions:review_note", args=[note.pk]))
        assert response.status_code == 200
    return len(queries)


def test_review_page_reads_the_thread_in_one_query_however_long(client, supervisor, trainee):
    login(client, supervisor)
    short, long = (
        NoteFactory.create(awaiting_cosign=True, author=trainee),
        NoteFactory.create(awaiting_cosign=True, author=trainee),
    )
    note_return(note=short, supervisor=supervisor, comments=[("", "One.")])
    for round_number in range(3):
        note_return(
            note=long,
            supervisor=supervisor,
            comments=[
                ("problem_solving", f"Round {round_number}: plan."),
                ("rapport", f"Round {round_number}: resources."),
                ("", f"Round {round_number}: overall."),
            ],
        )
        CrisisSession.objects.filter(pk=long.pk).update(status=NoteStatus.AWAITING_COSIGN)
    CrisisSession.objects.filter(pk=short.pk).update(status=NoteStatus.AWAITING_COSIGN)

    assert _review_page_queries(client, long) == _review_page_queries(client, short)


def _text(response) -> str:
    # Tags and runs of whitespace out, so assertions read the words a person sees.
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_risk_reads_in_the_note_pages_words_on_queue_dashboard_and_review(
    client, supervisor, trainee
):
    # Screened "none", no formulation: the note page says "None"; so does every review page.
    note = NoteFactory.create(awaiting_cosign=True, author=trainee, screen_risk=RiskLevel.NONE)
    login(client, supervisor)

    queue = _text(client.get(reverse("crisis_sessions:review_queue")))
    dashboard = _text(client.get(reverse("crisis_sessions:dashboard")))
    review = _text(client.get(reverse("crisis_sessions:review_note", args=[note.pk])))

    for text in (queue, dashboard, review):
        assert "Risk: None" in text
        assert "No risk identified" not in text
    assert "Screen: None · Clinician: Not assessed" in review
    assert "not formulated" not in review and "not screened" not in review


def test_risk_labels_cover_every_level_and_blank():
    from sessions.templatetags.risk_tags import risk_label

    assert [risk_label(level) for level in RiskLevel.values] == ["None", "Low", "Moderate", "High"]
    assert risk_label("") == "Not assessed"
    assert risk_label(None) == "Not assessed"


def test_queue_says_just_now_for_a_note_signed_this_minute(client, supervisor, trainee):
    from datetime import timedelta

    from django.utils import timezone

    NoteFactory.create(
        awaiting_cosign=True, author=trainee, signed_at=timezone.now() - timedelta(seconds=20)
    )
    older = NoteFactory.create(
        awaiting_cosign=True, author=trainee, signed_at=timezone.now() - timedelta(hours=3)
    )
    login(client, supervisor)

    queue = _text(client.get(reverse("crisis_sessions:review_queue")))
    dashboard = _text(client.get(reverse("crisis_sessions:dashboard")))

    assert "just now" in queue
    assert "3 hours ago" in queue
    assert "0 minutes" not in queue
    assert "(just now)" in dashboard
    assert "0 minutes" not in dashboard
    assert older.client.alias in queue


def test_elapsed_time_never_reads_zero_minutes():
    from datetime import UTC, datetime, timedelta

    import time_machine

    from sessions.templatetags.review_tags import ago, elapsed

    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        assert ago(now - timedelta(seconds=59)) == "just now"
        assert ago(now - timedelta(minutes=1)) == "1\xa0minute ago"
        assert elapsed(now - timedelta(seconds=5)) == "less than a minute"
        assert elapsed(now - timedelta(hours=2)) == "2\xa0hours"


def test_elapsed_time_reads_as_djangos_timesince_in_every_language():
    # ago/elapsed format each "3 hours" once per language and number: the same words as
    # Django's timesince, whatever the span and the language, asked in any order.
    from datetime import UTC, datetime, timedelta

    import time_machine
    from django.utils import translation
    from django.utils.timesince import timesince

    from sessions.templatetags.review_tags import ago, elapsed

    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    spans = [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(hours=1, minutes=1),
        timedelta(hours=3, minutes=2),
        timedelta(days=1),
        timedelta(days=2, hours=5),
        timedelta(weeks=1, days=1),
        timedelta(days=40),
        timedelta(days=400),
        timedelta(days=800, hours=3),
    ]
    with time_machine.travel(now, tick=False):
        for language in ("en", "es", "en"):
            with translation.override(language):
                for span in spans:
                    words = timesince(now - span)
                    assert elapsed(now - span) == words
                    assert ago(now - span) == translation.gettext("%(time)s ago") % {"time": words}
        with translation.override("es"):
            assert "hora" in elapsed(now - timedelta(hours=2))


def test_a_section_whose_read_only_template_is_missing_fails_loudly(client, supervisor, trainee):
    """No degraded record: a missing partial is an error, never a plain list of fields."""
    from django.template import TemplateDoesNotExist

    from sessions import registry

    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    sections = registry.sections()
    broken = type(
        "Broken",
        (type(sections[1]),),
        {"readonly_template_name": "sessions/partials/no_such_template.html"},
    )()
    login(client, supervisor)
    with registry.override(sections[0], broken, *sections[2:]), pytest.raises(TemplateDoesNotExist):
        client.get(reverse("crisis_sessions:review_note", args=[note.pk]))


def test_a_missing_include_raises():
    from django.template import Context, TemplateDoesNotExist
    from django.template.engine import Engine

    template = Engine.get_default().from_string('{% include "no/such/partial.html" %}')
    with pytest.raises(TemplateDoesNotExist):
        template.render(Context({}))


# The row loop of templates/sessions/review/queue.html before review_queue_rows built the rows.
_QUEUE_ROWS_AS_A_TEMPLATE = "{% load risk_tags review_tags %}" + (
    Path(__file__).with_name("rows_before_review_queue_rows.html").read_text()
)


def test_queue_rows_are_the_markup_of_the_template_they_replace(clinic, trainee):
    """review_queue_rows builds each row in Python for speed, from the notes' values
    (queue_rows): it must give exactly what the template loop gave from the notes themselves,
    escaping, risk badges and "ago" included, in other time zones and in Spanish too."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine
    from django.template import Context, Template
    from django.utils import timezone, translation

    from sessions.selectors.review import queue_rows
    from sessions.templatetags.review_tags import review_queue_rows

    at = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))
    trainee.full_name = 'Robin <Testcase> & "co"'
    trainee.save()
    notes = [
        NoteFactory.create(
            awaiting_cosign=True,
            author=trainee,
            client__alias="Caller, <green> coat",
            started_at=at,
            screen_risk=RiskLevel.HIGH,
            clinician_risk=RiskLevel.MODERATE,
            imminent=True,
            cosign_required_reason='Trainee <note> & "why"',
        ),
        NoteFactory.create(
            awaiting_cosign=True,
            author=trainee,
            started_at=at - timedelta(days=3, hours=5),
            screen_risk=RiskLevel.LOW,
            clinician_risk="",
            cosign_required_reason="",
        ),
        NoteFactory.create(
            awaiting_cosign=True, author=trainee, started_at=at, screen_risk="", clinician_risk=""
        ),
    ]
    notes[2].signed_at = None  # no signature time: every date cell stays empty
    fresh = (
        CrisisSession.objects.filter(pk__in=[n.pk for n in notes[:2]])
        .select_related("client", "author")
        .order_by("pk")
    )
    loaded = [*fresh, notes[2]]
    unsigned = queue_rows(CrisisSession.objects.filter(pk=notes[2].pk))[0]._replace(signed_at=None)
    values = [*queue_rows(fresh), unsigned]
    assert [row.pk for row in values] == [note.pk for note in loaded]
    template = Template(_QUEUE_ROWS_AS_A_TEMPLATE)
    zones = (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en"))
    with time_machine.travel(at + timedelta(days=2), tick=False):
        for zone, language in zones:
            with timezone.override(ZoneInfo(zone)), translation.override(language):
                expected = template.render(Context({"notes": loaded}))
                assert expected.count("<tr>") == 3 and "&lt;Testcase&gt;" in expected
                assert "&lt;green&gt;" in expected and "&lt;note&gt;" in expected
                rows = review_queue_rows(Context(), values)
                assert "  " + rows + "\n" == expected


def test_team_followup_rows_are_the_markup_of_the_template_they_replace(counselor):
    """team_followup_rows, like review_queue_rows: exactly the template loop's markup (of the
    tasks as models), from the rows followup_rows reads, on both lists, in other time zones and
    in Spanish."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine
    from django.template import Context, Template
    from django.utils import timezone, translation

    from sessions.templatetags.review_tags import team_followup_rows
    from tests.factories import FollowUpTaskFactory

    at = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))
    counselor.full_name = 'Robin <Testcase> & "co"'
    counselor.save()
    tasks = [
        FollowUpTaskFactory(
            session__clinic=counselor.clinic,
            session__client__alias="Caller, <green> coat",
            assigned_to=counselor,
            method="text",
            purpose='Check <the> plan & "means"',
            due_at=at - timedelta(hours=26, minutes=5),
        ),
        FollowUpTaskFactory(
            session__clinic=counselor.clinic,
            assigned_to=counselor,
            purpose="",
            due_at=at - timedelta(seconds=20),
        ),
    ]
    # The loop renders the tasks as models; the tag gets them as the page reads them.
    from sessions.models import FollowUpTask
    from sessions.selectors.review import followup_rows

    rows = followup_rows(FollowUpTask.objects.filter(pk__in=[t.pk for t in tasks]).order_by("id"))
    assert [row.due_at for row in rows] == [task.due_at for task in tasks]
    loop = Path(__file__).with_name("rows_before_team_followup_rows.html").read_text()
    template = Template("{% load i18n review_tags %}" + loop)
    zones = (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en"))
    with time_machine.travel(at, tick=False):
        for zone, language in zones:
            for list_name in ("overdue", "due_today"):
                with timezone.override(ZoneInfo(zone)), translation.override(language):
                    context = {"tasks": tasks, "list_name": list_name}
                    expected = template.render(Context(context))
                    assert expected.count("<tr>") == 2 and "&lt;Testcase&gt;" in expected
                    assert "&lt;green&gt;" in expected and "&lt;the&gt;" in expected
                    assert "  " + team_followup_rows(rows, list_name) + "\n" == expected


def test_since_is_djangos_timesince():
    """_since (the "ago" of the review queue's rows and the "overdue" of the team's follow-ups)
    follows Django's timesince step by step with its separator translated once: on gaps from
    none to years, either way, around month ends and a leap day, across time zones and in
    Spanish, the two must give the same words."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import translation
    from django.utils.timesince import TIME_STRINGS, timesince
    from django.utils.translation import gettext

    from sessions.templatetags.review_tags import _since, _TimeWord

    minutes = [0, 0.5, 1, 1.02, 59, 60, 61, 60 * 24 - 1, 60 * 24, 60 * 24 * 7 + 3]
    days = [2, 6.9, 7, 8.1, 13, 14, 27, 28, 29, 30, 31, 32, 59, 60, 61, 364, 365, 366, 400, 800]
    gaps = [timedelta(minutes=m) for m in minutes] + [timedelta(days=d) for d in days]
    nows = [
        datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 8, 15, 30, 500, tzinfo=UTC),
    ]
    checked = set()
    for language in ("en", "es"):
        with translation.override(language):
            words = {name: _TimeWord(name, language) for name in TIME_STRINGS}
            comma = gettext(", ")
            for now in nows:
                for gap in gaps:
                    for sign in (1, -1):
                        for zone in (UTC, ZoneInfo("America/New_York")):
                            d = (now - sign * gap).astimezone(zone)
                            expected = timesince(d, now)
                            assert _since(d, now, words, comma) == expected, (now, gap, sign)
                            checked.add(expected)
    assert len(checked) > 40
