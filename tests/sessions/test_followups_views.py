"""Follow-up views: adding tasks in the note's section (htmx), logging attempts and closing from
the counselor's home; scoping (another clinic's task is a 404)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions.models import CrisisSession, FollowUpTask
from tests.conftest import login
from tests.factories import CrisisSessionFactory, FollowUpTaskFactory, NoteFactory

pytestmark = pytest.mark.django_db


def _add_url(note):
    return reverse("crisis_sessions:followup_add", args=[note.pk])


def _task_post(counselor, due=None):
    due = due or timezone.now() + timedelta(hours=20)
    return {
        "followup-due_at": due.strftime("%Y-%m-%dT%H:%M"),
        "followup-method": "call",
        "followup-assigned_to": counselor.pk,
        "followup-purpose": "Check in tomorrow",
    }


def test_counselor_adds_a_task_to_their_draft_with_htmx(counselor_client, counselor):
    note: CrisisSession = CrisisSessionFactory(
        clinic=counselor.clinic, author=counselor, clinician_risk="high"
    )
    response = counselor_client.post(_add_url(note), _task_post(counselor), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    task = FollowUpTask.objects.get(session=note)
    assert task.assigned_to == counselor and task.purpose == "Check in tomorrow"
    body = response.content.decode()
    assert 'id="note-followups"' in body and "Call" in body and "Add follow-up" in body


def test_adding_a_task_reads_the_draft_row_not_the_page(counselor_client, counselor):
    """The add and the panel it answers use the draft's own columns (risk, times, author, client
    id): not the page's 13-table read, its quick notes, or the client's row. The panel's next
    form still takes its due time from the note's risk."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note: CrisisSession = CrisisSessionFactory(
        clinic=counselor.clinic, author=counselor, clinician_risk="high"
    )
    with CaptureQueriesContext(connection) as captured:
        response = counselor_client.post(
            _add_url(note), _task_post(counselor), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    task = FollowUpTask.objects.get(session=note)
    assert task.client_id == note.client_id and task.clinic_id == note.clinic_id
    reads = " ".join(q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT"))
    for table in (
        "crisis_sessions_quicknote",
        "_explorationstage",
        'FROM "crisis_sessions_client"',
    ):
        assert table not in reads
    due = timezone.localtime(note.started_at + timedelta(hours=note.clinic.followup_due_hours_high))
    assert f'value="{due:%Y-%m-%dT%H:%M}"' in response.content.decode()


def test_invalid_task_shows_the_error_and_saves_nothing(counselor_client, counselor):
    note = CrisisSessionFactory(clinic=counselor.clinic, author=counselor)
    data = {**_task_post(counselor), "followup-due_at": "not a time"}
    response = counselor_client.post(_add_url(note), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Enter a valid date/time" in response.content.decode()
    assert not FollowUpTask.objects.exists()


def test_tasks_cannot_be_added_to_a_signed_note_or_someone_elses_draft(client, counselor, teammate):
    signed = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    theirs = CrisisSessionFactory(clinic=counselor.clinic, author=teammate)
    login(client, counselor)
    assert client.post(_add_url(signed), _task_post(counselor)).status_code == 403
    assert client.post(_add_url(theirs), _task_post(counselor)).status_code == 404
    assert not FollowUpTask.objects.exists()


def test_note_page_section_lists_the_tasks(counselor_client, counselor):
    note = NoteFactory.create(
        signed=True,
        high_risk=True,
        author=counselor,
        before_signing=lambda draft: FollowUpTaskFactory(
            session=draft, assigned_to=counselor, purpose="Text on Monday"
        ),
    )
    response = counselor_client.get(note.get_absolute_url())
    assert response.status_code == 200
    assert "Text on Monday" in response.content.decode()


def test_my_work_lists_my_open_tasks_by_due_time(counselor_client, counselor, teammate):
    later = FollowUpTaskFactory(
        session__clinic=counselor.clinic, assigned_to=counselor, purpose="Later one"
    )
    sooner = FollowUpTaskFactory(
        session__clinic=counselor.clinic,
        assigned_to=counselor,
        purpose="Sooner one",
        due_at=timezone.now() - timedelta(hours=1),
    )
    FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=teammate, purpose="Not mine")
    body = counselor_client.get(reverse("crisis_sessions:my_work")).content.decode()
    assert body.index(sooner.purpose) < body.index(later.purpose)
    assert "Not mine" not in body
    assert "(overdue)" in body
    assert "Log attempt" in body and "Close follow-up" in body


def test_log_an_attempt_and_close_from_my_work(counselor_client, counselor):
    task = FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=counselor)
    url = reverse("crisis_sessions:followup_attempt", args=[task.pk])
    response = counselor_client.post(
        url,
        {
            f"attempt-{task.pk}-method": "call",
            f"attempt-{task.pk}-outcome": "no_answer",
            f"attempt-{task.pk}-notes": "Rang twice",
            "next": "https://evil.example.invalid/",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "crisis_sessions:my_work"
    )
    assert task.attempts.get().notes == "Rang twice"
    response = counselor_client.post(
        reverse("crisis_sessions:followup_close", args=[task.pk]),
        {f"close-{task.pk}-outcome": "reached_safe"},
    )
    task.refresh_from_db()
    assert not task.is_open and task.outcome == "reached_safe"


def test_another_clinics_task_is_a_404(client, counselor, outsider):
    task = FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=counselor)
    login(client, outsider)
    outsider.is_counselor = True
    outsider.save()
    response = client.post(
        reverse("crisis_sessions:followup_close", args=[task.pk]),
        {f"close-{task.pk}-outcome": "reached_safe"},
    )
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.is_open


def test_my_work_query_count_does_not_grow_with_tasks(
    counselor_client, counselor, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=counselor)
    with CaptureQueriesContext(connection) as ctx:
        counselor_client.get(reverse("crisis_sessions:my_work"))
    for _ in range(5):
        FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=counselor)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        counselor_client.get(reverse("crisis_sessions:my_work"))


def test_the_task_forms_assignee_list_reads_names_only_and_shows_every_counselor(
    counselor_client, counselor, teammate
):
    """The note page's task form lists the clinic's active counselors by name; it reads the
    names, not whole account rows (a post still reads the chosen one whole)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note = NoteFactory.create(author=counselor)
    with CaptureQueriesContext(connection) as captured:
        page = counselor_client.get(reverse("crisis_sessions:note_detail", args=[note.pk]))
    html = page.content.decode()
    for person in (counselor, teammate):
        assert f'<option value="{person.pk}"' in html and person.display_name in html
    # The page sends most of its reads together (crisisnotes/prepared.py read_ahead): each
    # statement of such a query on its own.
    statements = [sql for q in captured for sql in q["sql"].split(";\n")]
    users = [sql for sql in statements if 'ORDER BY "accounts_user"."full_name"' in sql]
    assert users and all('"accounts_user"."password"' not in sql for sql in users), users
