from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import Client, CrisisSession
from sessions.models.notes import AddendumKind
from sessions.services.addenda import addendum_add
from sessions.services.clients import client_create
from sessions.services.notes import note_autosave
from sessions.services.signing import note_sign
from tests.conftest import login
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    start_note,
)

pytestmark = pytest.mark.django_db


def test_search_as_you_type_answers_with_the_results_partial(counselor_client, counselor):
    client_create(user=counselor, alias="Caller, blue jacket")
    response = counselor_client.post(
        reverse("crisis_sessions:client_search"), {"q": "blue"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"Caller, blue jacket" in response.content
    assert b"<html" not in response.content


def test_empty_search_offers_a_new_client_with_that_alias(counselor_client):
    response = counselor_client.post(reverse("crisis_sessions:client_search"), {"q": "red hat"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="alias" value="red hat"' in page and "?alias=" not in page
    # The button posts the alias; the form comes back filled in, nothing saved yet.
    form = counselor_client.post(
        reverse("crisis_sessions:client_create"), {"alias": "red hat", "prefill": "1"}
    )
    assert form.status_code == 200 and 'value="red hat"' in form.content.decode()
    assert not Client.objects.exists()


def test_empty_search_offers_the_client_and_a_session_in_one_step(counselor_client, counselor):
    """On a call: from the search results straight into a new note, one page load."""
    page = counselor_client.post(
        reverse("crisis_sessions:client_search"), {"q": "Caller, red hat"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-testid="new-client-start"' in page
    assert 'name="start_session" value="on"' in page
    response = counselor_client.post(
        reverse("crisis_sessions:client_create"),
        {"alias": "Caller, red hat", "start_session": "on", "modality": "phone"},
    )
    note = CrisisSession.objects.get(client__alias="Caller, red hat")
    assert response["Location"] == note.get_absolute_url()
    assert note.author == counselor


def test_new_client_and_session_in_one_step(counselor_client, counselor):
    response = counselor_client.post(
        reverse("crisis_sessions:client_create"),
        {"alias": "Caller, red hat", "start_session": "on", "modality": "chat"},
    )
    note = CrisisSession.objects.get(client__alias="Caller, red hat")
    assert response.status_code == 302
    assert response["Location"] == note.get_absolute_url()
    assert note.author == counselor and note.modality == "chat"


def test_new_client_without_a_session(counselor_client):
    response = counselor_client.post(
        reverse("crisis_sessions:client_create"), {"alias": "Caller, green bag"}
    )
    client = Client.objects.get(alias="Caller, green bag")
    assert response["Location"] == client.get_absolute_url()
    assert not client.sessions.exists()


def test_start_session_from_the_client_page(counselor_client, counselor):
    client = client_create(user=counselor, alias="Returning")
    response = counselor_client.post(
        reverse("crisis_sessions:client_start_session", args=[client.pk]), {"modality": "video"}
    )
    note = client.sessions.get()
    assert response["Location"] == note.get_absolute_url()


JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.mark.parametrize("way", ["client page", "new client"])
def test_a_started_session_answers_a_script_with_its_page(counselor_client, counselor, way):
    """session.js's request (a form marked data-open-in-place): the note's address and its page
    as its GET gives it, audited as that view, in one answer (shown in place, no page load)."""
    if way == "client page":
        client = client_create(user=counselor, alias="Returning")
        url = reverse("crisis_sessions:client_start_session", args=[client.pk])
        response = counselor_client.post(url, {"modality": "video"}, **JSON)
    else:
        url = reverse("crisis_sessions:client_create")
        data = {"alias": "Caller, red hat", "start_session": "on", "modality": "phone"}
        response = counselor_client.post(url, data, **JSON)
    note = CrisisSession.objects.get()
    assert response.status_code == 200
    answer = response.json()
    assert answer["url"] == note.get_absolute_url()
    page = counselor_client.get(note.get_absolute_url()).content.decode()
    # The same page as its GET (the CSRF token is masked afresh in each response; the idle
    # time left is counted in seconds).
    masked = r'\b[A-Za-z0-9]{64}\b|data-idle-remaining="\d+"'
    assert re.sub(masked, "", answer["page"]) == re.sub(masked, "", page)
    assert 'id="note-form"' in answer["page"]
    views = AuditEvent.objects.filter(
        action=Action.VIEW, object_type="crisis_sessions.crisissession", object_id=str(note.pk)
    )
    assert views.count() == 2  # the answer's, and the GET's above


def test_a_client_created_without_a_session_answers_a_script_where_to_go(counselor_client):
    """A success is never what a refusal looks like to session.js (which would post the form
    again): a client created without a session answers in JSON too."""
    response = counselor_client.post(
        reverse("crisis_sessions:client_create"), {"alias": "Caller, red hat"}, **JSON
    )
    record = Client.objects.get(alias="Caller, red hat")
    assert response.status_code == 200
    assert response.json() == {"url": record.get_absolute_url()}
    assert not CrisisSession.objects.exists()


def test_a_refused_start_answers_a_script_as_a_plain_form_and_creates_nothing(
    counselor_client, counselor
):
    """Only a started session answers with a page: a refusal is a 400 with the error (said by
    the form, the page kept) or what a plain form gets (the form with its errors), which tells
    session.js that nothing was created."""
    client = client_create(user=counselor, alias="Returning")
    url = reverse("crisis_sessions:client_start_session", args=[client.pk])
    refused = counselor_client.post(url, {"modality": ""}, **JSON)
    assert refused.status_code == 400
    assert refused.json() == {"error": "Choose how the client reached us to start the session."}
    new = counselor_client.post(
        reverse("crisis_sessions:client_create"),
        {"alias": "", "start_session": "on", "modality": "phone"},
        **JSON,
    )
    assert new.status_code == 200 and new["Content-Type"].startswith("text/html")
    assert not CrisisSession.objects.exists()
    assert Client.objects.count() == 1


def test_client_page_shows_the_timeline_and_is_audited(counselor_client, counselor):
    client = client_create(user=counselor, alias="Returning")
    start_note(counselor, client)
    response = counselor_client.get(client.get_absolute_url())
    assert response.status_code == 200
    assert b"Draft" in response.content and counselor.full_name.encode() in response.content
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(client.pk)).exists()


def test_edit_client(counselor_client, counselor):
    client = client_create(user=counselor, alias="Returning")
    response = counselor_client.post(
        reverse("crisis_sessions:client_edit", args=[client.pk]),
        {"alias": "Returning", "pronouns": "he/him"},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.pronouns == "he/him"


def test_another_clinics_client_is_a_404(client, counselor, outsider):
    foreign = client_create(user=outsider, alias="Elsewhere")
    login(client, counselor)
    for name in ("client_detail", "client_edit"):
        assert client.get(reverse(f"crisis_sessions:{name}", args=[foreign.pk])).status_code == 404
    start = reverse("crisis_sessions:client_start_session", args=[foreign.pk])
    assert client.post(start, {"modality": "phone"}).status_code == 404


def _page_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.usefixtures("only_session_rules")
def test_client_page_query_count_stays_constant_as_sessions_grow(
    counselor_client, counselor, django_assert_max_num_queries
):
    client = client_create(user=counselor, alias="Returning")

    def add_signed_session():
        note = start_note(counselor, client)
        note = note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))
        note = note_sign(note=note, user=counselor)
        addendum_add(note=note, user=counselor, kind=AddendumKind.ADDENDUM, text="t", reason="r")

    add_signed_session()
    one = _page_queries(counselor_client, client.get_absolute_url())
    for _ in range(4):
        add_signed_session()
    with django_assert_max_num_queries(one):
        assert counselor_client.get(client.get_absolute_url()).status_code == 200


def test_client_page_names_each_sessions_risk_in_words_and_styles_the_radios(
    counselor_client, counselor
):
    client = client_create(user=counselor, alias="Returning")
    start_note(counselor, client)
    html = counselor_client.get(client.get_absolute_url()).content.decode()
    risk = html.split('data-testid="timeline-risk">', 1)[1].split("</td>", 1)[0]
    assert "Not assessed" in risk and "—" not in risk
    radios = html.split('id="start-heading"', 1)[1].split("</fieldset>", 1)[0]
    assert radios.count('class="form-check-input"') == radios.count('type="radio"') > 0


def test_client_timeline_shows_the_most_recent_sessions_and_links_to_all(
    counselor_client, counselor, teammate, monkeypatch, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from sessions.models.notes import NoteStatus
    from sessions.views import clients
    from tests.factories import NoteFactory

    monkeypatch.setattr(clients, "TIMELINE_SHOWN", 3)
    client = client_create(user=counselor, alias="Returning")
    now = timezone.now()

    def session(days_ago, **kwargs):
        return NoteFactory.create(
            client=client,
            clinic=counselor.clinic,
            started_at=now - timedelta(days=days_ago),
            **{"author": counselor, "status": NoteStatus.SIGNED, **kwargs},
        )

    # The newest is a teammate's draft: listed, but not a link (only its author opens it).
    recent = [session(0, author=teammate, status=NoteStatus.DRAFT), session(1), session(2)]
    url = client.get_absolute_url()
    body = counselor_client.get(url).content.decode()
    assert "timeline-more" not in body  # exactly the bound: no link
    with CaptureQueriesContext(connection) as at_bound:
        counselor_client.get(url)
    older = [session(10 + n) for n in range(4)]
    # Past the bound: one count more, whatever the number of sessions.
    with django_assert_max_num_queries(len(at_bound.captured_queries) + 1):
        body = counselor_client.get(url).content.decode()
    timeline = body.split('data-testid="timeline"', 1)[1].split("</table>", 1)[0]
    assert timeline.count("<tr>") == 1 + 3  # the header and the three most recent
    assert f'href="{recent[0].get_absolute_url()}"' not in body
    assert all(f'href="{n.get_absolute_url()}"' in timeline for n in recent[1:])
    assert not any(f'href="{n.get_absolute_url()}"' in body for n in older)
    assert "Showing the 3 most recent of 7 sessions." in body
    assert 'href="?sessions=all#timeline-heading">Show all 7 sessions</a>' in body
    everything = counselor_client.get(url, {"sessions": "all"}).content.decode()
    assert all(f'href="{n.get_absolute_url()}"' in everything for n in recent[1:] + older)
    assert "timeline-more" not in everything
    # Each view of the page is audited, the full list included.
    views = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(client.pk))
    assert views.count() == 4


@pytest.mark.usefixtures("only_session_rules")
def test_client_follow_ups_and_addenda_read_only_what_they_show(
    counselor_client, counselor, monkeypatch
):
    """client_open_followups and client_addenda read only the fields the client page shows:
    the two sections are the same HTML as from the full rows joined to the assignee and the
    note (the selectors as they were), in as many queries (no deferred field loaded per row)."""
    import re
    from datetime import timedelta

    from django.utils import timezone

    from sessions.models import Addendum, FollowUpTask
    from sessions.models.followups import FollowUpMethod
    from sessions.selectors.clients import FollowUpRow
    from sessions.views import clients as views

    client = client_create(user=counselor, alias="Returning")
    for n in range(3):
        note = start_note(counselor, client)
        FollowUpTask.objects.create(
            clinic=counselor.clinic,
            session=note,
            client=client,
            assigned_to=counselor,
            due_at=timezone.now() + timedelta(days=n),
            method=FollowUpMethod.CALL,
        )
        note = note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))
        note = note_sign(note=note, user=counselor)
        addendum_add(
            note=note,
            user=counselor,
            kind=AddendumKind.CORRECTION,
            text=f"<b>{n}</b>\nx",
            reason="r",
        )

    def sections():
        with CaptureQueriesContext(connection) as ctx:
            html = counselor_client.get(client.get_absolute_url()).content.decode()
        found = re.findall(
            r'<section aria-labelledby="client-(?:followups|addenda)-heading".*?</section>',
            html,
            re.S,
        )
        assert len(found) == 2
        return found, len(ctx.captured_queries)

    new, new_queries = sections()
    assert "&lt;b&gt;2&lt;/b&gt;" in new[1] and counselor.display_name in new[0]
    monkeypatch.setattr(
        views,
        "client_open_followup_rows",
        lambda *, user, client: [
            # The rows the page reads now (values), made from the full rows.
            FollowUpRow(task.method, task.due_at, task.assigned_to.display_name)
            for task in FollowUpTask.objects.filter(
                client=client, clinic=user.clinic, closed_at__isnull=True
            )
            .select_related("assigned_to")
            .order_by("due_at", "id")
        ],
    )
    monkeypatch.setattr(
        views,
        "client_addenda",
        lambda *, user, client: (
            Addendum.objects.filter(session__client=client, session__clinic=user.clinic)
            .select_related("session")
            .order_by("-created_at", "-id")
        ),
    )
    assert sections() == (new, new_queries)
