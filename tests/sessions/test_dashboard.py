import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions.models import FollowUpTask
from sessions.models.followups import FollowUpMethod
from sessions.models.notes import NoteStatus, RiskLevel
from tests.conftest import login
from tests.factories import (
    NoteFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# A Wednesday: the week began on Monday 2026-11-16 at midnight (the test clinic runs on UTC).
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def _task(assignee, due_at, closed_at=None):
    # Tasks are added while the note is a draft; the database refuses them on a signed note.
    note = NoteFactory.create(author=assignee, started_at=at(10, 9))
    task = FollowUpTask.objects.create(
        clinic=assignee.clinic,
        session=note,
        client=note.client,
        assigned_to=assignee,
        due_at=due_at,
        method=FollowUpMethod.CALL,
        closed_at=closed_at,
    )
    type(note).objects.filter(pk=note.pk).update(status=NoteStatus.SIGNED)
    return task


@pytest.fixture
def seeded(clinic, supervisor, counselor, trainee, outsider):
    with time_machine.travel(NOW, tick=False):
        seeded = {
            "a": NoteFactory.create(
                author=counselor,
                started_at=at(17, 10),
                status=NoteStatus.SIGNED,
                screen_risk=RiskLevel.HIGH,
            ),
            "b": NoteFactory.create(
                author=counselor,
                started_at=at(15, 10),
                status=NoteStatus.SIGNED,
                clinician_risk=RiskLevel.HIGH,
            ),
            "c": NoteFactory.create(
                author=counselor,
                started_at=at(9, 10),
                status=NoteStatus.SIGNED,
                screen_risk=RiskLevel.HIGH,
            ),
            # The clinician's level governs: formulated low, the session is not high risk.
            "d": NoteFactory.create(
                author=counselor,
                started_at=at(18, 8),
                status=NoteStatus.SIGNED,
                screen_risk=RiskLevel.HIGH,
                clinician_risk=RiskLevel.LOW,
            ),
            "e": NoteFactory.create(author=trainee, started_at=at(16, 9), ended_at=at(16, 10)),
            "f": NoteFactory.create(author=trainee, started_at=at(18, 11), imminent=True),
            "g": NoteFactory.create(awaiting_cosign=True, author=trainee, started_at=at(17, 14)),
        }
        _task(counselor, at(18, 10))  # overdue
        _task(counselor, at(18, 15))  # due later today
        _task(counselor, at(19, 9))  # tomorrow
        _task(counselor, at(17, 9), closed_at=at(17, 10))  # closed
        # Another team's and another clinic's work never shows.
        other_boss = UserFactory(clinic=clinic, is_supervisor=True)
        day_team = TeamFactory(clinic=clinic, name="Day team", supervisor=other_boss)
        stranger = UserFactory(clinic=clinic, team=day_team)
        NoteFactory.create(
            author=stranger,
            started_at=at(17, 10),
            status=NoteStatus.SIGNED,
            screen_risk=RiskLevel.HIGH,
        )
        NoteFactory.create(author=stranger, started_at=at(10, 10))
        _task(stranger, at(18, 9))
        far = UserFactory(clinic=outsider.clinic)
        NoteFactory.create(
            author=far, started_at=at(17, 10), status=NoteStatus.SIGNED, screen_risk=RiskLevel.HIGH
        )
        _task(far, at(18, 9))
    return seeded


def test_dashboard_counts_are_right_on_a_seeded_set(client, supervisor, counselor, trainee, seeded):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        board = client.get(reverse("crisis_sessions:dashboard")).context["board"]

    assert board.counts == {
        "high_risk": 3,  # a, b, f (imminent)
        "late_drafts": 1,  # e
        "week": 5,  # a, d, e, f, g
        "awaiting": 1,  # g
        "overdue": 1,
        "due_today": 1,
    }
    workload = {m.username: (m.sessions_week, m.high_risk_week) for m in board.workload}
    assert workload == {
        "counselor1": (2, 1),
        "trainee1": (3, 1),
        "supervisor1": (0, 0),
    }


def test_every_number_links_to_the_list_behind_it(client, supervisor, counselor, seeded):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("crisis_sessions:dashboard")).content.decode()
        sessions = reverse("crisis_sessions:team_sessions")
        followups = reverse("crisis_sessions:team_followups")

        def rows(url, key):
            assert url.replace("&", "&amp;") in page or url in page, url
            return {obj.pk for obj in client.get(url).context[key]}

        s = seeded
        assert rows(f"{sessions}?list=high_risk", "notes") == {s["a"].pk, s["b"].pk, s["f"].pk}
        assert rows(f"{sessions}?list=late_drafts", "notes") == {s["e"].pk}
        assert len(rows(f"{followups}?list=overdue", "tasks")) == 1
        assert len(rows(f"{followups}?list=due_today", "tasks")) == 1
        assert rows(f"{sessions}?list=week&counselor={counselor.pk}", "notes") == {
            s["a"].pk,
            s["d"].pk,
        }
        assert rows(f"{sessions}?list=week&counselor={counselor.pk}&risk=high", "notes") == {
            s["a"].pk
        }
        queue = client.get(reverse("crisis_sessions:review_queue")).context["notes"]
        assert [n.pk for n in queue] == [s["g"].pk]


def test_team_lists_refuse_a_stranger_as_counselor_filter(client, supervisor, outsider, team):
    login(client, supervisor)
    url = reverse("crisis_sessions:team_sessions")
    assert client.get(url, {"list": "week", "counselor": outsider.pk}).status_code == 404
    assert client.get(url, {"list": "nonsense"}).status_code == 404


def test_counselor_cannot_open_the_team_pages(counselor_client):
    for name in ("dashboard", "team_sessions", "team_followups"):
        assert counselor_client.get(reverse(f"crisis_sessions:{name}")).status_code == 403


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("crisis_sessions:dashboard"))
        assert response.status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_grow_with_data(client, supervisor, counselor, trainee):
    login(client, supervisor)

    def add(n):
        for _ in range(n):
            for author in (counselor, trainee):
                NoteFactory.create(
                    author=author,
                    started_at=at(17, 10),
                    status=NoteStatus.SIGNED,
                    screen_risk=RiskLevel.HIGH,
                )
                NoteFactory.create(awaiting_cosign=True, author=author)
                _task(author, at(17, 10))

    with time_machine.travel(NOW, tick=False):
        add(1)
        small = _dashboard_queries(client)
        add(3)
        assert _dashboard_queries(client) == small
        for name in ("high_risk", "week"):
            with CaptureQueriesContext(connection) as queries:
                client.get(reverse("crisis_sessions:team_sessions"), {"list": name})
            assert len(queries) <= small + 2


def test_dashboard_lists_the_latest_high_risk_sessions(client, supervisor, seeded):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        board = client.get(reverse("crisis_sessions:dashboard")).context["board"]
    s = seeded
    assert [n.pk for n in board.high_risk] == [s["f"].pk, s["a"].pk, s["b"].pk]


def test_team_lists_without_a_list_name_open_the_most_needed_list(client, supervisor, seeded):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        sessions = client.get(reverse("crisis_sessions:team_sessions"))
        followups = client.get(reverse("crisis_sessions:team_followups"))

    assert sessions.status_code == 200
    assert sessions.context["list_name"] == "high_risk"
    s = seeded
    assert {n.pk for n in sessions.context["notes"]} == {s["a"].pk, s["b"].pk, s["f"].pk}
    assert followups.status_code == 200
    assert followups.context["list_name"] == "overdue"
    assert len(followups.context["tasks"]) == 1
    assert "Follow-ups overdue" in followups.content.decode()


def _high_risk_rows(page: str) -> dict[str, str]:
    """The dashboard's recent high-risk rows, keyed by client alias."""
    listing = page.split('data-testid="recent-high-risk"', 1)[1].split("</ul>", 1)[0]
    rows = {}
    for item in listing.split("<li")[1:]:
        alias = re.search(r"<strong>(.*?)</strong>", item).group(1)
        rows[html.unescape(alias)] = item
    return rows


def test_dashboard_marks_drafts_in_progress_and_links_what_the_supervisor_can_open(
    client, supervisor, trainee, seeded
):
    s = seeded
    with time_machine.travel(NOW, tick=False):
        # The supervisor's own draft: theirs to open.
        own = NoteFactory.create(
            author=supervisor, started_at=at(18, 9), screen_risk=RiskLevel.HIGH
        )
        # With its stage rows (the seeded notes have none), so the review page can render.
        awaiting = NoteFactory.create(
            awaiting_cosign=True, author=trainee, started_at=at(18, 7), imminent=True
        )
        login(client, supervisor)
        page = client.get(reverse("crisis_sessions:dashboard")).content.decode()
        rows = _high_risk_rows(page)

        # Someone else's draft at imminent risk: the supervision rule opens it read-only.
        draft = rows[s["f"].client.alias]
        live = reverse("crisis_sessions:supervise_note", args=[s["f"].pk])
        assert f'href="{live}"' in draft and "In progress — open read-only" in draft
        assert trainee.display_name in draft
        assert page.count('data-testid="drafts-explained"') == 1
        assert reverse("notifications:list") in page
        # Signed notes open on the review page; the supervisor's own on the note page.
        for note in (s["a"], s["b"], awaiting):
            url = reverse("crisis_sessions:review_note", args=[note.pk])
            assert f'href="{url}"' in rows[note.client.alias]
        url = reverse("crisis_sessions:review_note", args=[awaiting.pk])
        assert client.get(url).status_code == 200
        own_url = reverse("crisis_sessions:note_detail", args=[own.pk])
        assert f'href="{own_url}"' in rows[own.client.alias]
        assert "In progress" not in rows[own.client.alias]
        assert client.get(own_url).status_code == 200
        # The rows read only DASHBOARD_HIGH_RISK_FIELDS: no field of a note, client, author or
        # team is loaded afterwards, one row at a time.
        with CaptureQueriesContext(connection) as queries:
            again = client.get(reverse("crisis_sessions:dashboard")).content.decode()
        assert _high_risk_rows(again) == rows
        tables = ("crisis_sessions_crisissession", "crisis_sessions_client", "accounts_team")
        one_row = [q["sql"] for q in queries if "LIMIT 21" in q["sql"]]
        assert not [sql for sql in one_row if any(f'FROM "{t}"' in sql for t in tables)]
        # (the request's own user is read once per request, by the middleware)
        assert not [
            sql
            for sql in one_row
            if 'FROM "accounts_user"' in sql and f'"id" = {supervisor.pk} LIMIT' not in sql
        ]


def test_team_list_marks_drafts_in_progress(client, supervisor, seeded):
    login(client, supervisor)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("crisis_sessions:team_sessions"), {"list": "late_drafts"})
    text = page.content.decode()
    assert "In progress — readable after signing" in text
    assert reverse("crisis_sessions:note_detail", args=[seeded["e"].pk]) not in text
    assert reverse("crisis_sessions:review_note", args=[seeded["e"].pk]) not in text
    assert text.count('data-testid="drafts-explained"') == 1


def test_dashboard_without_drafts_does_not_explain_them(client, supervisor, counselor):
    with time_machine.travel(NOW, tick=False):
        NoteFactory.create(
            author=counselor,
            started_at=at(17, 10),
            status=NoteStatus.SIGNED,
            screen_risk=RiskLevel.HIGH,
        )
        page = login(client, supervisor).get(reverse("crisis_sessions:dashboard"))
    assert "drafts-explained" not in page.content.decode()


def test_dashboard_title_is_the_page_name_and_the_load_table_renders_once(client, supervisor):
    # The load table was once included in the title block too: rendered twice, and its markup
    # shown as the window's title.
    login(client, supervisor)
    page = client.get(reverse("crisis_sessions:dashboard")).content.decode()
    assert re.search(r"<title>\s*Team · crisisnotes\s*</title>", page)
    assert page.count('id="load-heading"') == 1


def test_dashboard_counts_the_notes_of_members_outside_the_workload_table(
    client, supervisor, counselor, trainee, seeded
):
    """The counts read the team's notes by member (session_author_open_idx): a member who left
    (inactive) or does not counsel still has their open notes and follow-ups counted, as the
    lists behind the numbers show them, though the workload table lists active counselors."""
    from sessions.selectors.review import team_dashboard, team_session_list

    with time_machine.travel(NOW, tick=False):
        before = team_dashboard(user=supervisor).counts
        trainee.is_active = False
        trainee.save(update_fields=["is_active"])
        board = team_dashboard(user=supervisor)
        listed = {
            name: team_session_list(user=supervisor, name=name).count()
            for name in ("late_drafts", "awaiting", "high_risk", "week")
        }
    assert board.counts == before
    assert {name: board.counts[name] for name in listed} == listed
    assert "trainee1" not in {m.username for m in board.workload}


def test_dashboard_of_a_supervisor_without_a_team_counts_nothing(clinic, seeded):
    from sessions.selectors.review import team_dashboard

    lone = UserFactory(clinic=clinic, is_supervisor=True)
    with time_machine.travel(NOW, tick=False):
        board = team_dashboard(user=lone)
    assert set(board.counts.values()) == {0} and len(board.counts) == 6
    assert board.workload == [] and board.load.rows == []
