"""Team load and quality (sessions.selectors.load): the figures on an invented set match counts
made by hand, every figure opens the list behind it, and the query count does not grow with
the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions.models import FollowUpTask
from sessions.models.followups import FollowUpMethod
from sessions.selectors.load import Contact, high_risk_runs, to_micros
from tests.conftest import login
from tests.factories import NoteFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

# Wednesday 18 November 2026, noon (the test clinic runs on UTC). The period starts 19 Oct noon.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _signed(author, started, **traits):
    """A 30-minute contact, signed half an hour after it ended unless `sign_delay` says."""
    return NoteFactory.create(
        signed=True,
        author=author,
        started_at=started,
        minutes=30,
        **{"sign_delay": _minutes(30), **traits},
    )


def _task(assignee, due, closed=None):
    # Outside the period: the note counts for nothing else. Its task is added while it is a
    # draft, as the app does (the database refuses a task added to a signed note).
    tasks = []
    NoteFactory.create(
        signed=True,
        author=assignee,
        started_at=at(9, 1, 10),
        minutes=30,
        sign_delay=_minutes(30),
        before_signing=lambda draft: tasks.append(
            FollowUpTask.objects.create(
                clinic=assignee.clinic,
                session=draft,
                client=draft.client,
                assigned_to=assignee,
                due_at=due,
                method=FollowUpMethod.CALL,
                closed_at=closed,
            )
        ),
    )
    return tasks[0]


@pytest.fixture
def invented(clinic, supervisor, counselor, trainee, outsider):
    n = {
        # Robin (counselor): Saturday noon, high, still a draft.
        "sat": NoteFactory.create(
            author=counselor, started_at=at(11, 14, 12), minutes=30, high_risk=True
        ),
        "mon10": _signed(counselor, at(11, 16, 10), sign_delay=_minutes(60)),
        # Monday evening into Tuesday night: three high-risk contacts in one shift.
        "mon18": _signed(counselor, at(11, 16, 18), sign_delay=_minutes(30), high_risk=True),
        "mon2230": _signed(counselor, at(11, 16, 22, 30), sign_delay=_minutes(20), high_risk=True),
        "tue01": _signed(counselor, at(11, 17, 1), sign_delay=_minutes(120), imminent=True),
        # Thursday evening and Friday morning: three high, but an 11-hour gap splits the shift.
        "thu20": _signed(counselor, at(11, 12, 20), high_risk=True),
        "thu21": _signed(counselor, at(11, 12, 21), high_risk=True),
        "fri08": _signed(counselor, at(11, 13, 8), high_risk=True),
        # Before the period: counts for nothing.
        "old": _signed(counselor, at(10, 15, 23), high_risk=True),
        # Sam (trainee): three notes that went to review, one returned.
        "t_await": NoteFactory.create(
            awaiting_cosign=True,
            author=trainee,
            started_at=at(11, 17, 10),
            minutes=30,
            sign_delay=_minutes(120),
        ),
        "t_returned": NoteFactory.create(
            returned=True, author=trainee, started_at=at(11, 18, 9), minutes=30
        ),
        "t_signed": _signed(
            trainee,
            at(11, 16, 14),
            sign_delay=_minutes(10),
            cosign_required_reason="The author is a trainee.",
        ),
    }
    _task(counselor, at(11, 18, 10))  # overdue
    _task(counselor, at(11, 17, 9))  # overdue
    _task(counselor, at(11, 18, 15))  # due later
    _task(counselor, at(11, 17, 8), closed=at(11, 17, 9))  # closed
    _task(trainee, at(11, 16, 9))  # overdue
    # Another team's and another clinic's high-risk runs never show.
    day_team = TeamFactory(clinic=clinic, name="Day team", supervisor=UserFactory(clinic=clinic))
    stranger = UserFactory(clinic=clinic, team=day_team)
    far = UserFactory(clinic=outsider.clinic)
    for who in (stranger, far):
        for hour in (20, 21, 22):
            _signed(who, at(11, 17, hour), high_risk=True, imminent=True)
        _task(who, at(11, 16, 9))
    return n


def _board(client, supervisor):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("crisis_sessions:dashboard")).context["board"]


def test_load_figures_match_the_hand_count(client, supervisor, invented):
    load = _board(client, supervisor).load
    rows = {row.counselor.username: row for row in load.rows}
    robin, sam = rows["counselor1"], rows["trainee1"]

    assert robin.contacts == 8
    # Sat 12:00, Mon 18:00, Mon 22:30, Tue 01:00, Thu 20:00, Thu 21:00, Fri 08:00.
    assert robin.after_hours == 7
    assert robin.overnight == 2  # Mon 22:30, Tue 01:00
    assert (robin.runs, robin.longest_run) == (1, 3)  # Mon 18:00 → Tue 01:00
    # Signed: 60, 30, 20, 120, 30, 30, 30 minutes → median 30 (the Saturday draft is not signed).
    assert (robin.signed, robin.median_to_sign) == (7, timedelta(minutes=30))
    assert (robin.reviewed, robin.returned, robin.return_rate) == (0, 0, None)
    assert robin.overdue_followups == 2

    assert (sam.contacts, sam.after_hours, sam.overnight, sam.runs) == (3, 0, 0, 0)
    assert (sam.signed, sam.median_to_sign) == (2, timedelta(minutes=65))  # 120 and 10
    assert (sam.reviewed, sam.returned) == (3, 1)
    assert sam.return_rate == pytest.approx(1 / 3)
    assert sam.overdue_followups == 1

    # The supervisor is on the team as a counselor too, with nothing in the period.
    assert rows["supervisor1"].contacts == 0 and rows["supervisor1"].median_to_sign is None

    prompts = [(p.counselor.username, p.kind) for p in load.debriefs]
    assert prompts == [("counselor1", "run"), ("counselor1", "imminent")]
    assert "3 high-risk contacts in a row" in load.debriefs[0].reason


def test_every_load_figure_opens_its_list(client, supervisor, counselor, trainee, invented):
    n = invented
    login(client, supervisor)
    sessions = reverse("crisis_sessions:team_sessions")
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("crisis_sessions:dashboard")).content.decode()

        def listed(name, who):
            url = f"{sessions}?list={name}&counselor={who.pk}"
            assert url.replace("&", "&amp;") in page, url
            return {note.pk for note in client.get(url).context["notes"]}

        def pks(*keys):
            return {n[k].pk for k in keys}

        assert listed("after_hours", counselor) == pks(
            "sat", "mon18", "mon2230", "tue01", "thu20", "thu21", "fri08"
        )
        assert listed("overnight", counselor) == pks("mon2230", "tue01")
        assert listed("runs", counselor) == pks("mon18", "mon2230", "tue01")
        assert listed("signed", counselor) == pks(
            "mon10", "mon18", "mon2230", "tue01", "thu20", "thu21", "fri08"
        )
        assert listed("reviewed", trainee) == pks("t_await", "t_returned", "t_signed")
        assert listed("returned", trainee) == pks("t_returned")
        overdue = f"{reverse('crisis_sessions:team_followups')}?list=overdue&counselor="
        assert overdue.replace("&", "&amp;") + str(counselor.pk) in page
        tasks = client.get(f"{overdue}{counselor.pk}").context["tasks"]
        assert len(tasks) == 2 and {t.assigned_to_id for t in tasks} == {counselor.pk}
        assert 'data-testid="debrief-prompts"' in page


def test_overdue_list_refuses_someone_outside_the_teams(client, supervisor, outsider, team):
    login(client, supervisor)
    url = reverse("crisis_sessions:team_followups")
    assert client.get(url, {"list": "overdue", "counselor": outsider.pk}).status_code == 404


def _dashboard_queries(client) -> int:
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("crisis_sessions:dashboard")).status_code == 200
    return len(ctx)


def test_dashboard_query_count_does_not_grow_with_the_data(
    client, supervisor, counselor, trainee, teammate
):
    login(client, supervisor)
    _signed(counselor, at(11, 17, 23), high_risk=True)
    _task(counselor, at(11, 17, 9))
    few = _dashboard_queries(client)
    # Session, user, clinic, two-factor check and notifications badge (5, every page); three
    # counts (recent sessions, open sessions, open follow-ups), the workload, the five awaiting
    # and five high-risk rows, and the team load's two (its period's rows, overdue follow-ups).
    assert few <= 12, few
    for day in range(1, 12):
        for who in (counselor, trainee, teammate):
            _signed(who, at(11, day, 22), high_risk=True, imminent=day % 3 == 0)
            _signed(who, at(11, day, 23), high_risk=True, returned=True)
            _task(who, at(11, day, 9))
    assert _dashboard_queries(client) == few


def _contacts(*spec):
    return [
        Contact(pk=i, started_us=to_micros(at(11, 1, 0) + timedelta(hours=h)), high=high)
        for i, (h, high) in enumerate(spec)
    ]


def test_runs_need_three_in_a_row_within_a_shift():
    assert high_risk_runs(_contacts((0, True), (1, True))) == []
    run = high_risk_runs(_contacts((0, True), (1, True), (2, True), (3, False), (4, True)))
    assert [c[0] for r in run for c in r] == [0, 1, 2]
    # 9 hours between starts opens a new shift: the run is broken.
    assert high_risk_runs(_contacts((0, True), (1, True), (10, True))) == []
    # Exactly 8 hours is still the same shift.
    assert len(high_risk_runs(_contacts((0, True), (8, True), (16, True)))) == 1
    four = high_risk_runs(_contacts((0, True), (1, True), (2, True), (3, True)))
    assert [len(r) for r in four] == [4]


def test_load_rows_are_the_markup_of_the_template_loop_they_replace(supervisor, counselor):
    """team_load_rows builds the team load table's rows in Python for speed: it must give
    exactly what the template loop gave (tests/sessions/rows_before_team_load_rows.html), with
    and without runs, signatures and reviews, escaping and large numbers (grouped or not), in
    Spanish too."""
    from pathlib import Path

    from django.template import Context, Template
    from django.test import override_settings
    from django.utils import translation

    from sessions.selectors.load import CounselorLoad
    from sessions.templatetags.supervision_tags import team_load_rows

    odd = UserFactory(clinic=supervisor.clinic, full_name='Dr "<Odd>" & co', username="o&d")
    rows = [
        CounselorLoad(counselor=counselor),
        CounselorLoad(
            counselor=odd,
            contacts=1234,
            after_hours=17,
            overnight=3,
            runs=2,
            longest_run=5,
            signed=40,
            median_to_sign=timedelta(hours=2, minutes=5),
            reviewed=8,
            returned=3,
            overdue_followups=1001,
        ),
        CounselorLoad(counselor=supervisor, contacts=1, signed=1, median_to_sign=timedelta(days=3)),
    ]
    loop = Path(__file__).with_name("rows_before_team_load_rows.html").read_text()
    template = Template(loop)
    urls = {"sessions_url": "/team/sessions/", "followups_url": "/team/followups/?a=1&b=2"}
    for language, grouped in (("en", False), ("es", False), ("en", True)):
        with translation.override(language), override_settings(USE_THOUSAND_SEPARATOR=grouped):
            expected = template.render(Context({"load": {"rows": rows}, **urls}))
            assert expected.count("<tr ") == 3 and "&lt;Odd&gt;" in expected
            assert "(longest 5)" in expected or language == "es"
            assert ("1,234" in expected) is grouped
            items = team_load_rows(rows, urls["sessions_url"], urls["followups_url"])
            assert "    " + items + "\n" == expected


def test_workload_rows_are_the_markup_of_the_template_loop_they_replace(supervisor, counselor):
    """workload_rows builds the dashboard's "Workload this week" rows in Python, as
    team_load_rows does the load table's: exactly what the template loop gave
    (tests/sessions/rows_before_workload_rows.html), with escaping and large numbers (grouped
    or not), in Spanish too."""
    from pathlib import Path

    from django.template import Context, Template
    from django.test import override_settings
    from django.utils import translation

    from sessions.templatetags.supervision_tags import workload_rows

    odd = UserFactory(clinic=supervisor.clinic, full_name='Dr "<Odd>" & co', username="o&d")
    for member, week, high in ((counselor, 0, 0), (odd, 1234, 17), (supervisor, 3, 1)):
        member.sessions_week, member.high_risk_week = week, high
    members = [counselor, odd, supervisor]
    loop = Path(__file__).with_name("rows_before_workload_rows.html").read_text()
    template = Template(loop)
    url = "/team/sessions/?a=1&b=2"
    for language, grouped in (("en", False), ("es", False), ("en", True)):
        with translation.override(language), override_settings(USE_THOUSAND_SEPARATOR=grouped):
            context = {"board": {"workload": members}, "sessions_url": url}
            expected = template.render(Context(context))
            assert expected.count("<tr>") == 3 and "&lt;Odd&gt;" in expected
            assert ("1,234" in expected) is grouped
            assert ("sesiones esta semana" in expected) is (language == "es")
            assert "    " + workload_rows(members, url) + "\n" == expected


def test_is_reviewed_is_reviewed_q_on_the_two_flags_team_load_reads(counselor):
    """team_load reads REASON_Q and RETURNED_Q and combines them with is_reviewed (one probe of
    the review comments per row): on every combination of the two, that must be REVIEWED_Q,
    the condition of the "reviewed" list behind the count."""
    from django.db.models import BooleanField, ExpressionWrapper

    from sessions.models import CrisisSession
    from sessions.selectors.load import (
        REASON_Q,
        RETURNED_Q,
        REVIEWED_Q,
        _annotated,
        is_reviewed,
    )

    plain = _signed(counselor, at(11, 2, 10))
    returned = _signed(counselor, at(11, 3, 10), returned=True)
    # A draft back with its author (drafts may change): its reason cleared, its comment kept.
    comment_only = NoteFactory.create(author=counselor, started_at=at(11, 4, 10), returned=True)
    reason_only = _signed(counselor, at(11, 5, 10), awaiting_cosign=True)
    CrisisSession.objects.filter(pk=comment_only.pk).update(cosign_required_reason="")
    notes = _annotated(CrisisSession.objects.all()).annotate(
        has_reason=ExpressionWrapper(REASON_Q, output_field=BooleanField()),
        is_returned=ExpressionWrapper(RETURNED_Q, output_field=BooleanField()),
        is_reviewed=ExpressionWrapper(REVIEWED_Q, output_field=BooleanField()),
    )
    rows = {
        pk: (reason, returned_, reviewed)
        for pk, reason, returned_, reviewed in notes.values_list(
            "pk", "has_reason", "is_returned", "is_reviewed"
        )
    }
    combos = {rows[n.pk][:2] for n in (plain, returned, comment_only, reason_only)}
    assert combos == {(False, False), (True, True), (False, True), (True, False)}
    for reason, returned_, reviewed in rows.values():
        assert is_reviewed(reason=reason, returned=returned_) is reviewed


def test_period_sql_is_the_period_querysets_twin(supervisor, counselor, trainee, outsider):
    """period_rows runs _PERIOD_SQL on PostgreSQL, written once, where the ORM's statement
    (_period_queryset, the home of each flag's rule) was built at every request: on contacts
    started at every hour of the day and every day of the week, of every risk, status, reason
    and review, they must give the same rows, in the clinic's time zone whichever it is
    (Etc/GMT+5: one Django rewrites; Asia/Kolkata: a half-hour offset)."""
    from django.utils import timezone

    from sessions.models import CrisisSession
    from sessions.models.notes import RiskLevel
    from sessions.selectors.load import PERIOD_COLUMNS, _period_queryset, period_rows

    assert connection.vendor == "postgresql"
    start = at(11, 2, 0, 30)  # a Monday
    for i in range(24):
        who = (counselor, trainee)[i % 2]
        started = start + timedelta(days=i % 7, hours=i)
        traits: dict = {
            0: {"signed": True, "sign_delay": _minutes(7 * i + 1)},
            1: {"awaiting_cosign": True, "minutes": 30, "sign_delay": _minutes(i)},
            2: {"returned": True},
            3: {"signed": True, "minutes": None, "cosign_required_reason": "A second look."},
        }[i % 4]
        if i % 3 == 0:
            traits["screen_risk"] = RiskLevel.HIGH
        if i % 6 == 0:
            traits["clinician_risk"] = RiskLevel.LOW
        if i % 5 == 0:
            traits["imminent"] = True
        NoteFactory.create(author=who, started_at=started, **traits)
    NoteFactory.create(author=UserFactory(clinic=outsider.clinic), started_at=start)
    NoteFactory.create(author=counselor, started_at=start - timedelta(days=1))  # before
    authors = [counselor.pk, trainee.pk]
    for zone in ("UTC", "America/New_York", "Etc/GMT+5", "Asia/Kolkata"):
        with timezone.override(zone):
            rows = period_rows(user=supervisor, author_ids=authors, since=start)
            assert rows == list(_period_queryset(supervisor, authors, start)), zone
            assert len(rows) == 24
            # Every flag both ways, so the comparison means something.
            for name, column in zip(PERIOD_COLUMNS, zip(*rows, strict=True), strict=True):
                if name.startswith(("is_", "has_")) or name == "imminent":
                    assert set(column) == {False, True}, (zone, name)
            assert {type(s) for s in list(zip(*rows, strict=True))[4]} == {float, type(None)}
    assert period_rows(user=supervisor, author_ids=[], since=start) == []
    assert CrisisSession.objects.count() == 26


def _dashboard_before(*, user, now=None):
    """team_dashboard as it was before it read its counts from the period's rows (c30c9fa):
    aggregates and lists through the ORM, the team load through the ORM's statement."""
    from django.db.models import Count, FilteredRelation, Q
    from django.db.models.functions import Coalesce

    from sessions.models import CrisisSession
    from sessions.models.notes import NoteStatus
    from sessions.risk import high_risk_q
    from sessions.selectors import review
    from sessions.selectors.load import LOAD_DAYS, _period_queryset, team_load

    window = review.Window.at(now)
    week_sessions = FilteredRelation(
        "authored_sessions",
        condition=Q(authored_sessions__started_at__gte=window.week_start),
    )
    members = list(
        review.team_member_list(user=user)
        .annotate(week_sessions=week_sessions)
        .annotate(
            sessions_week=Count("week_sessions"),
            high_risk_week=Count("week_sessions", filter=high_risk_q("week_sessions__")),
        )
    )
    workload = [member for member in members if member.is_active and member.is_counselor]
    member_ids = [member.pk for member in members]
    team_notes = CrisisSession.objects.filter(clinic=user.clinic, author_id__in=member_ids)
    recent = Q(started_at__gte=min(window.high_risk_since, window.week_start))
    still_open = Q(status__in=[NoteStatus.DRAFT, NoteStatus.AWAITING_COSIGN])
    counts: dict[str, int] = {}
    for rows, names in (
        (recent, review.RECENT_SESSION_LISTS),
        (still_open, review.OPEN_SESSION_LISTS),
    ):
        counts.update(
            team_notes.filter(rows)
            .annotate(late_reference=Coalesce("ended_at", "started_at"))
            .aggregate(
                **{
                    name: Count("pk", filter=review._session_list_q(user, name, window))
                    for name in names
                }
            )
        )
    counts.update(
        FollowUpTask.objects.filter(
            clinic=user.clinic, closed_at__isnull=True, assigned_to_id__in=member_ids
        ).aggregate(
            **{
                name: Count("pk", filter=review._followup_list_q(name, window))
                for name in review.TEAM_FOLLOWUP_LISTS
            }
        )
    )
    since = window.now - timedelta(days=LOAD_DAYS)
    return review.TeamDashboard(
        counts=counts,
        workload=workload,
        awaiting=list(review.awaiting_cosign_list_for_supervisor(user=user)[:5]),
        high_risk=list(
            review.team_session_list(user=user, name="high_risk", window=window).only(
                *review.DASHBOARD_HIGH_RISK_FIELDS
            )[:5]
        ),
        window=window,
        load=team_load(
            user=user,
            counselors=workload,
            now=window.now,
            period=list(_period_queryset(user, [c.pk for c in workload], since)),
        ),
    )


@pytest.fixture
def language_kept():
    """The language middleware activates each reader's language and leaves it active after the
    request: the tests that read pages in Spanish put the one before them back."""
    from django.utils import translation

    with translation.override(translation.get_language()):
        yield


def _page_bytes(client) -> bytes:
    """The dashboard as served, its per-response tokens (CSRF, CSP nonce) blanked."""
    import re

    page = client.get(reverse("crisis_sessions:dashboard")).content
    page = re.sub(rb'"[A-Za-z0-9]{64}"', b'"csrf"', page)  # a masked CSRF token
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', page)


def test_dashboard_page_is_the_page_of_the_reads_it_replaces(
    client, clinic, supervisor, counselor, trainee, teammate, invented, monkeypatch, language_kept
):
    """team_dashboard counts the recent lists, each counselor's week and the follow-ups from
    fewer reads, and reads the five latest high-risk contacts by pk: the page must be byte for
    byte the page of the aggregates it replaced (_dashboard_before), in New York time and in
    Spanish too, with a member outside the workload table (inactive) and one without contacts,
    with and without high-risk contacts and notes awaiting co-signature to list."""
    from sessions.models import CrisisSession
    from sessions.models.notes import NoteStatus
    from sessions.views import review as views

    former = UserFactory(clinic=clinic, team=supervisor.team, username="former1", is_active=False)
    _signed(former, at(11, 17, 23), high_risk=True)
    _task(former, at(11, 17, 9))
    # Many high-risk contacts this week (more than the five listed), some at the same minute.
    for hour in (2, 2, 3, 4, 5, 6, 23):
        _signed(teammate, at(11, 16, hour), high_risk=True)
    clinic.time_zone = "America/New_York"
    clinic.save(update_fields=["time_zone"])
    login(client, supervisor)

    def both(now: datetime = NOW) -> tuple[bytes, bytes]:
        with time_machine.travel(now, tick=False):
            new = _page_bytes(client)
            with monkeypatch.context() as patched:
                patched.setattr(views, "team_dashboard", _dashboard_before)
                old = _page_bytes(client)
        return old, new

    pages = []
    for language in ("en", "es"):
        supervisor.language = language
        supervisor.save(update_fields=["language"])
        old, new = both()
        assert new == old, language
        pages.append(new)
    assert b"former1" not in pages[0]
    assert b'data-testid="recent-high-risk"' in pages[0] and b"Offer a debrief" in pages[0]
    assert pages[0] != pages[1]
    # Ten days on: no high-risk contact in the last seven to list.
    old, new = both(NOW + timedelta(days=10))
    assert new == old
    assert b'data-testid="recent-high-risk"' not in new
    # Nothing awaiting co-signature (the supervisor's own team changes hands).
    assert CrisisSession.objects.filter(status=NoteStatus.AWAITING_COSIGN).exists()
