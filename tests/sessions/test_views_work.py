"""My work: the counselor's drafts (returned ones marked) and notes waiting for co-signature."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions.services.review import note_return
from tests.conftest import login
from tests.factories import NoteFactory

pytestmark = pytest.mark.django_db

MY_WORK = reverse("crisis_sessions:my_work")


def _returned(trainee, supervisor):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_return(note=note, supervisor=supervisor, comments=[("", "Add the action plan.")])
    return note


def test_trainee_sees_notes_waiting_for_cosignature_and_returned_drafts(
    client, trainee, supervisor, teammate
):
    waiting = NoteFactory.create(awaiting_cosign=True, author=trainee)
    returned = _returned(trainee, supervisor)
    plain = NoteFactory.create(author=trainee)
    someone_elses = NoteFactory.create(awaiting_cosign=True, author=teammate)
    login(client, trainee)
    html = client.get(MY_WORK).content.decode()

    waiting_part = html.split('id="awaiting-heading"', 1)[1]
    drafts_part = html.split('id="awaiting-heading"', 1)[0]
    assert f'href="{waiting.get_absolute_url()}"' in waiting_part
    assert f'href="{someone_elses.get_absolute_url()}"' not in html
    assert f'href="{returned.get_absolute_url()}"' in drafts_part
    assert f'href="{plain.get_absolute_url()}"' in drafts_part
    # Only the returned draft carries the badge, and it is listed first.
    assert drafts_part.count('data-testid="returned-badge"') == 1
    assert drafts_part.index(returned.get_absolute_url()) < drafts_part.index(
        plain.get_absolute_url()
    )
    assert drafts_part.index(returned.get_absolute_url()) < drafts_part.index("returned-badge")


def test_nothing_waiting_reads_as_a_sentence(client, counselor):
    login(client, counselor)
    assert "Nothing waiting for a supervisor." in client.get(MY_WORK).content.decode()


def test_returned_draft_shows_the_badge_on_its_note_page(client, trainee, supervisor):
    returned = _returned(trainee, supervisor)
    plain = NoteFactory.create(author=trainee)
    login(client, trainee)
    assert (
        'data-testid="returned-badge"' in client.get(returned.get_absolute_url()).content.decode()
    )
    assert (
        'data-testid="returned-badge"' not in client.get(plain.get_absolute_url()).content.decode()
    )


def test_my_work_query_count_does_not_grow_with_notes(
    client, trainee, supervisor, django_assert_max_num_queries
):
    NoteFactory.create(awaiting_cosign=True, author=trainee)
    _returned(trainee, supervisor)
    NoteFactory.create(author=trainee)
    login(client, trainee)
    with CaptureQueriesContext(connection) as ctx:
        client.get(MY_WORK)
    # Session, user, clinic, notifications badge; drafts, notes awaiting co-signature and the
    # open follow-ups (client joined).
    assert len(ctx.captured_queries) <= 7, len(ctx.captured_queries)
    for _ in range(3):
        NoteFactory.create(awaiting_cosign=True, author=trainee)
        _returned(trainee, supervisor)
        NoteFactory.create(author=trainee)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert client.get(MY_WORK).content.decode().count('data-testid="returned-badge"') == 4


def test_follow_ups_are_bounded_to_the_soonest_with_a_link_to_all(
    counselor_client, counselor, monkeypatch, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from sessions.views import work
    from tests.factories import FollowUpTaskFactory

    monkeypatch.setattr(work, "FOLLOWUPS_SHOWN", 3)
    now = timezone.now()
    tasks = [
        FollowUpTaskFactory(
            session__clinic=counselor.clinic,
            assigned_to=counselor,
            purpose=f"Invented purpose {n}",
            due_at=now + timedelta(hours=n),
        )
        for n in range(3)
    ]
    body = counselor_client.get(MY_WORK).content.decode()
    assert "followups-more" not in body  # exactly the bound: no link
    with CaptureQueriesContext(connection) as at_bound:
        counselor_client.get(MY_WORK)
    later = [
        FollowUpTaskFactory(
            session__clinic=counselor.clinic,
            assigned_to=counselor,
            purpose=f"Invented later purpose {n}",
            due_at=now + timedelta(days=2 + n),
        )
        for n in range(4)
    ]
    # Past the bound: one count more, whatever the number of tasks.
    with django_assert_max_num_queries(len(at_bound.captured_queries) + 1):
        body = counselor_client.get(MY_WORK).content.decode()
    assert all(task.purpose in body for task in tasks)  # the soonest due are shown
    assert not any(task.purpose in body for task in later)
    assert "Showing the 3 due soonest of your 7 open follow-ups" in body
    assert 'href="?followups=all#my-followups"' in body
    everything = counselor_client.get(MY_WORK, {"followups": "all"}).content.decode()
    assert all(task.purpose in everything for task in tasks + later)
    assert "followups-more" not in everything


def test_each_follow_up_gets_its_own_forms_fields(counselor_client, counselor):
    """The fields are rendered once per method and language (kept by the worker process), then
    given each task's pk: the markup must be exactly what rendering each task's own forms gives,
    on the page and in each language in turn."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from sessions.forms.followups import FollowUpAttemptForm, FollowUpCloseForm
    from sessions.templatetags.followup_tags import followup_action_fields
    from tests.factories import FollowUpTaskFactory

    tasks = [
        FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=counselor, method=m)
        for m in ("call", "text", "call")
    ]
    body = counselor_client.get(MY_WORK).content.decode()
    assert "__task__" not in body
    for task in tasks:
        for form in (
            FollowUpAttemptForm(prefix=f"attempt-{task.pk}", initial={"method": task.method}),
            FollowUpCloseForm(prefix=f"close-{task.pk}"),
        ):
            own = render_to_string(
                "sessions/followups/partials/followup_action_fields.html", {"form": form}
            )
            assert own in body
        assert f'<option value="{task.method}" selected>' in body
    for language in ("en", "es", "en"):
        with translation.override(language):
            for task in tasks:
                for kind, form in (
                    (
                        "attempt",
                        FollowUpAttemptForm(
                            prefix=f"attempt-{task.pk}", initial={"method": task.method}
                        ),
                    ),
                    ("close", FollowUpCloseForm(prefix=f"close-{task.pk}")),
                ):
                    own = render_to_string(
                        "sessions/followups/partials/followup_action_fields.html", {"form": form}
                    )
                    assert followup_action_fields(task, kind) == own, (language, kind)


@pytest.mark.parametrize("method", ["call", "text", "visit"])
def test_follow_up_form_fields_are_djangos_widget_markup(method):
    # The fields are written with |light_widget (no template include per <option>): the same
    # tags, attributes and text as {{ field }} (whitespace between tags aside, as
    # tests/sessions/test_light_fields.py compares).
    from sessions.forms.followups import FollowUpAttemptForm, FollowUpCloseForm
    from sessions.templatetags.light_fields import light_widget
    from tests.sessions.test_light_fields import tokens

    for form in (
        FollowUpAttemptForm(prefix="attempt-7", initial={"method": method}),
        FollowUpCloseForm(prefix="close-7"),
    ):
        for field in form:
            assert tokens(light_widget(field)) == tokens(str(field)), field.name


def test_follow_up_items_are_the_markup_of_the_template_they_replace(rf, counselor):
    """my_followup_items builds each follow-up's <li> in Python for speed: it must give exactly
    what the template loop gave (tests/sessions/items_before_my_followup_items.html), escaping,
    the CSRF token, overdue marks and translations included, in other time zones and Spanish."""
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from django.middleware.csrf import get_token
    from django.template import Context, Template
    from django.utils import timezone, translation

    from sessions.selectors.work import followup_open_rows_for_assignee
    from sessions.templatetags.followup_tags import my_followup_items
    from tests.factories import FollowUpTaskFactory

    at = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))
    tasks = [
        FollowUpTaskFactory(
            session__clinic=counselor.clinic,
            session__client__alias="Caller, <green> coat",
            assigned_to=counselor,
            method="call",
            purpose='Check <the> plan & "means"',
            due_at=at - timedelta(hours=2),
        ),
        FollowUpTaskFactory(
            session__clinic=counselor.clinic,
            assigned_to=counselor,
            method="text",
            purpose="",
            due_at=at + timedelta(days=1, hours=5),
        ),
    ]
    # The page's rows are read as values; the loop read the tasks themselves.
    rows, total = followup_open_rows_for_assignee(user=counselor, limit=1, show_all=False)
    assert total == 2 and [row.pk for row in rows] == [tasks[0].pk]
    rows, total = followup_open_rows_for_assignee(user=counselor, limit=1, show_all=True)
    assert total == 2 and [row.pk for row in rows] == [task.pk for task in tasks]
    request = rf.get("/work/?followups=all&x=<y>")
    request.user = counselor
    loop = Path(__file__).with_name("items_before_my_followup_items.html").read_text()
    template = Template("{% load i18n followup_tags %}" + loop)
    for zone, language in (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en")):
        with timezone.override(ZoneInfo(zone)), translation.override(language):
            values = {"followups": tasks, "now": at, "request": request}
            for token in (get_token(request), "NOTPROVIDED", None):
                expected = template.render(Context({**values, "csrf_token": token}))
                assert expected.count("<li ") == 2 and "&lt;green&gt;" in expected
                assert expected.count("list-group-item-danger") == 1
                items = my_followup_items(Context({**values, "csrf_token": token}), rows, at)
                assert "      " + items + "\n" == expected


def test_note_items_are_the_markup_of_the_template_they_replace(counselor):
    """my_note_items builds the drafts' and the awaiting notes' <li> in Python for speed: it
    must give exactly what the template loops gave (tests/sessions/items_before_my_note_items
    .html), escaping, the returned badge and translations included, in other time zones and
    Spanish."""
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from django.db.models import Exists, OuterRef
    from django.template import Context, Template
    from django.utils import timezone, translation

    from sessions.models import CrisisSession, ReviewComment
    from sessions.models.notes import NoteStatus
    from sessions.selectors.work import my_note_rows
    from sessions.templatetags.work_tags import my_note_items
    from tests.factories import ClientFactory, NoteFactory

    at = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))
    odd = ClientFactory(clinic=counselor.clinic, alias="Caller, <green> coat & co")
    NoteFactory(author=counselor, client=odd, started_at=at, modality="phone")
    NoteFactory(author=counselor, started_at=at - timedelta(days=3), modality="text")
    NoteFactory(author=counselor, started_at=at, modality="phone")  # the same minute
    NoteFactory(author=counselor, returned=True, started_at=at - timedelta(hours=5))
    NoteFactory(author=counselor, client=odd, awaiting_cosign=True)
    NoteFactory(author=counselor, awaiting_cosign=True, cosign_required_reason="<Trainee> & co")
    loop = Path(__file__).with_name("items_before_my_note_items.html").read_text()
    template = Template("{% load i18n %}" + loop)
    # The notes as the loop read them: the two lists' queries before my_note_rows (which now
    # orders drafts started in the same minute newest made first).
    own = CrisisSession.objects.filter(author=counselor)
    lists = {
        "draft": list(
            own.filter(status=NoteStatus.DRAFT)
            .annotate(returned=Exists(ReviewComment.objects.filter(session=OuterRef("pk"))))
            .order_by("-returned", "-started_at", "-pk")
        ),
        "awaiting": list(own.filter(status=NoteStatus.AWAITING_COSIGN).order_by("signed_at", "id")),
    }
    # The page's rows are read as values, both lists in one query, ordered in Python.
    mine = my_note_rows(user=counselor)
    rows = {"draft": mine.drafts, "awaiting": mine.awaiting}
    assert len(lists["draft"]) == 4 and len(lists["awaiting"]) == 2
    for kind, notes in lists.items():
        assert [row.pk for row in rows[kind]] == [note.pk for note in notes]
    for zone, language in (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en")):
        with timezone.override(ZoneInfo(zone)), translation.override(language):
            for kind, notes in lists.items():
                expected = template.render(Context({"notes": notes, "kind": kind}))
                assert expected.count("<li ") == len(notes) and "&lt;green&gt;" in expected
                assert "      " + my_note_items(rows[kind], kind) + "\n" == expected
            assert "returned-badge" in my_note_items(rows["draft"], "draft")
            assert "&lt;Trainee&gt; &amp; co" in my_note_items(rows["awaiting"], "awaiting")
