from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models.notes import AddendumKind, NoteStatus
from sessions.services.addenda import addendum_add
from sessions.services.notes import note_autosave, quick_note_add
from sessions.services.signing import note_sign
from tests.conftest import login
from tests.sessions.note_helpers import (
    complete_data,
    form_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = pytest.mark.django_db


def _url(name, note):
    return reverse(f"crisis_sessions:{name}", args=[note.pk])


def _signed(author, client=None):
    note = start_note(author, client)
    note = note_autosave(note=note, user=author, base_version=1, data=complete_data(note))
    return note_sign(note=note, user=author)


def test_author_gets_the_editable_page_with_five_stage_slots(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.get(note.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("exploration", "rapport", "problem_solving", "follow_up"):
        assert f'id="stage-{key}"' in html
    assert 'id="id_exploration-precipitating_event"' in html
    assert "Alt+1" in html and "Ctrl+S" in html
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(note.pk)).exists()


def test_drafts_are_hidden_from_everyone_but_the_author(client, counselor, teammate, supervisor):
    note = start_note(counselor)
    for user in (teammate, supervisor):
        login(client, user)
        assert client.get(note.get_absolute_url()).status_code == 404


@pytest.mark.usefixtures("only_session_rules")
def test_signed_notes_are_read_only_for_everyone_in_the_clinic(client, counselor, teammate):
    note = _signed(counselor)
    login(client, teammate)
    response = client.get(note.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="note-form"' not in html
    assert f"{counselor.full_name}, {counselor.credential}" in html
    assert note.content_hash in html
    assert client.post(_url("note_save", note), form_data(note)).status_code == 404


@pytest.mark.usefixtures("only_session_rules")
def test_another_clinics_note_is_a_404(client, counselor, outsider):
    note = _signed(counselor)
    login(client, outsider)
    assert client.get(note.get_absolute_url()).status_code == 404
    assert client.post(_url("note_addendum", note), {}).status_code == 404


def test_autosave_answers_json_with_version_and_stage_states(counselor_client, counselor):
    note = start_note(counselor)
    data = form_data(note, **{"exploration-precipitating_event": "Eviction"})
    response = counselor_client.post(_url("note_save", note), data, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert body["stages"]["exploration"]["completion"] == "in_progress"
    assert body["stages"]["rapport"]["completion"] == "empty"
    assert reload(note).exploration.precipitating_event == "Eviction"
    # The badge and "last edited" line come rendered by the page's own partials (note.js
    # swaps them in), so the page and the live update say the same thing.
    page = counselor_client.get(note.get_absolute_url()).content.decode()
    exploration, rapport = body["stages"]["exploration"], body["stages"]["rapport"]
    assert exploration["badge_html"].strip() in page
    assert ">In progress<" in exploration["badge_html"]
    assert exploration["edited_html"].strip() in page
    assert f"last edited {exploration['last_edited']}" in exploration["edited_html"]
    # An empty stage shows no edit time.
    assert ">Empty<" in rapport["badge_html"]
    assert "last edited" not in rapport["edited_html"]


def test_partial_autosave_builds_and_saves_only_the_posted_stages(
    counselor_client, counselor, django_assert_max_num_queries
):
    """note.js posts the stages that changed (`stages`): the others are neither validated nor
    written, so a field absent from the post leaves its stored value alone; the answer carries
    the posted stages' states (the others' rows were not written)."""
    note = start_note(counselor)
    note_autosave(
        note=note,
        user=counselor,
        base_version=1,
        data=form_data(note, **{"rapport-engagement_notes": "Warmed up slowly"}),
    )
    data = {"version": "2", "stages": "exploration"}
    data |= {
        k: v
        for k, v in form_data(note, **{"exploration-precipitating_event": "Eviction"}).items()
        if k.startswith("exploration-")
    }
    with django_assert_max_num_queries(10) as captured:  # no resources read for rapport's form
        response = counselor_client.post(_url("note_save", note), data, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 200, response.content
    # The locked re-read joins the posted stage's row only (each joined table costs planning).
    reads = [q["sql"] for q in captured.captured_queries if "_explorationstage" in q["sql"]]
    assert reads and not [sql for sql in reads if "_rapportstage" in sql]
    # The header was not posted: the note's row gets its new version, its header untouched.
    (bump,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('UPDATE "crisis_sessions_crisissession"')
    ]
    assert '"version"' in bump and '"modality"' not in bump
    assert response.json()["version"] == 3
    assert set(response.json()["stages"]) == {"exploration"}
    assert response.json()["stages"]["exploration"]["completion"] == "in_progress"
    note = reload(note)
    assert note.exploration.precipitating_event == "Eviction"
    assert note.rapport.engagement_notes == "Warmed up slowly"


def test_autosave_query_count_is_fixed_and_does_not_grow_with_the_note(
    counselor_client, counselor, django_assert_max_num_queries
):
    """Session, user, clinic; BEGIN, the row lock (which checks the author: no read of the note
    comes first), the re-read with the stages, the resources the rapport stage offers; one
    UPDATE per changed stage row and the note's; the audit row; COMMIT. No database round trip
    validates a CHECK (the 0-10 scales are checked in Python) and nothing is read for the page
    (quick notes, addenda)."""
    note = start_note(counselor)
    url = _url("note_save", note)

    def save(text):
        data = form_data(note, **{"exploration-precipitating_event": text})
        with django_assert_max_num_queries(11):  # 24 before (issue 15)
            response = counselor_client.post(url, data, HTTP_X_AUTOSAVE="1")
        assert response.status_code == 200, response.content
        return response.json()["version"]

    assert save("first") == 2
    for i in range(3):
        quick_note_add(note=note, user=counselor, text=f"more {i}")
    assert save("second") == reload(note).version
    assert reload(note).exploration.precipitating_event == "second"


@pytest.mark.parametrize("script", ["note.js", "cssrs.js"])
def test_scripts_hold_no_copy_of_the_servers_labels_and_hints(script):
    """Badge labels, hints and sign-list headings are the server's (partials and data-text-*
    attributes); the scripts only pick and swap them in."""
    from django.conf import settings

    source = (settings.BASE_DIR / "static" / "js" / script).read_text(encoding="utf-8")
    for text in (
        '"Complete"',
        '"In progress"',
        '"Empty"',
        "last edited ",
        "text-bg-success",
        "Required: a C-SSRS answer is yes",
        "Required when any C-SSRS answer",
        "required: a C-SSRS answer is yes",
        "not required: no screening answer",
        "Not signed yet",
        "Nothing missing",
    ):
        assert text not in source, f"{script} holds a copy of {text!r}"


@pytest.mark.usefixtures("only_session_rules")
def test_autosave_into_a_note_not_ones_own_is_refused_as_before_with_nothing_locked(
    client, counselor, teammate, outsider
):
    """The autosave reads no note before its lock, which takes the author's own note only:
    anyone else's note is still a 403 where they may read it (a signed note of the clinic) and
    a 404 where they may not (a colleague's draft, another clinic), and nothing is written."""
    draft, signed = start_note(counselor), _signed(counselor)
    login(client, teammate)
    data = form_data(draft, **{"exploration-precipitating_event": "Not mine"})
    response = client.post(_url("note_save", signed), data, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert client.post(_url("note_save", draft), data, HTTP_X_AUTOSAVE="1").status_code == 404
    login(client, outsider)
    for note in (draft, signed):
        assert client.post(_url("note_save", note), data, HTTP_X_AUTOSAVE="1").status_code == 404
    assert reload(draft).version == 1
    assert reload(draft).exploration.precipitating_event == ""
    assert not AuditEvent.objects.filter(action=Action.UPDATE, actor=teammate).exists()
    assert not AuditEvent.objects.filter(action=Action.UPDATE, actor=outsider).exists()


def test_autosave_by_id_checks_the_author_on_the_locked_row(counselor, teammate):
    from django.core.exceptions import PermissionDenied

    note = start_note(counselor)
    data = form_data(note, **{"exploration-precipitating_event": "Handed over?"})
    with pytest.raises(PermissionDenied):
        note_autosave(note=note.pk, user=teammate, base_version=1, data=data)
    saved = note_autosave(note=note.pk, user=counselor, base_version=1, data=data)
    assert saved.version == 2 and saved.author == counselor
    assert reload(note).exploration.precipitating_event == "Handed over?"


def test_autosave_conflict_answers_409_and_saves_nothing(counselor_client, counselor):
    note = start_note(counselor)
    stale = form_data(note, **{"exploration-precipitating_event": "Older tab"})
    counselor_client.post(
        _url("note_save", note),
        form_data(note, **{"exploration-precipitating_event": "Newer tab"}),
        HTTP_X_AUTOSAVE="1",
    )
    response = counselor_client.post(_url("note_save", note), stale, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 409
    assert "another tab" in response.json()["message"]
    assert reload(note).exploration.precipitating_event == "Newer tab"


def test_plain_post_conflict_keeps_the_typed_text_in_the_page(counselor_client, counselor):
    note = start_note(counselor)
    stale = form_data(note, **{"exploration-precipitating_event": "What I typed offline"})
    note_autosave(
        note=note,
        user=counselor,
        base_version=1,
        data=form_data(note, **{"rapport-engagement_notes": "other tab"}),
    )
    response = counselor_client.post(_url("note_save", note), stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "What I typed offline" in html
    assert "Not saved: conflict" in html
    assert 'name="version" value="1"' in html
    assert reload(note).exploration.precipitating_event == ""


def test_plain_post_saves_without_javascript(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.post(
        _url("note_save", note), form_data(note, **{"rapport-validation_notes": "Validated fear"})
    )
    assert response.status_code == 302
    assert reload(note).rapport.validation_notes == "Validated fear"


def test_invalid_plain_post_shows_the_error_and_saves_nothing(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.post(
        _url("note_save", note),
        form_data(note, **{"exploration-suds_end": "12", "rapport-validation_notes": "not saved"}),
    )
    assert response.status_code == 400
    assert "not saved" in response.content.decode()
    assert reload(note).rapport.validation_notes == ""


@pytest.mark.usefixtures("only_session_rules")
def test_sign_refusal_lists_every_unmet_rule_with_a_link_to_its_field(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.post(
        _url("note_sign", note),
        form_data(note, **{"exploration-precipitating_event": "Saved on the way"}),
    )
    # Post/Redirect/Get: the note's own URL, so a reload never posts the signature again.
    assert response.status_code == 302
    assert response["Location"] == f"{note.get_absolute_url()}?sign=1#sign-problems"
    html = counselor_client.get(f"{note.get_absolute_url()}?sign=1").content.decode()
    assert 'id="sign-problems"' in html and 'role="alert"' in html
    for field_id in (
        "id_header-ended_at",
        "id_header-confidentiality_explained",
        "id_exploration-suds_start",
        "id_exploration-suds_end",
        "id_problem_solving-interventions",
        "id_follow_up-disposition_0",
        "id_follow_up-followup_plan",
        "id_follow_up-crisis_numbers_given",
    ):
        assert f'href="#{field_id}"' in html
        assert f'id="{field_id}"' in html
    assert 'href="#id_exploration-precipitating_event"' not in html
    assert reload(note).exploration.precipitating_event == "Saved on the way"
    # Without ?sign=1 the page is the plain draft; nobody else gets the list.
    assert (
        'id="sign-problems"' not in counselor_client.get(note.get_absolute_url()).content.decode()
    )


@pytest.mark.usefixtures("only_session_rules")
def test_sign_from_the_page_locks_the_note(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.post(_url("note_sign", note), complete_data(note))
    assert response.status_code == 302
    assert reload(note).status == NoteStatus.SIGNED


def test_end_session_sets_the_end_time(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.post(_url("note_end", note), form_data(note))
    assert response.status_code == 302
    assert reload(note).ended_at is not None


def test_quick_note_with_htmx_returns_the_list(counselor_client, counselor):
    note = start_note(counselor)
    response = counselor_client.post(
        _url("note_quick_note", note), {"text": "sister lives nearby"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "sister lives nearby" in response.content.decode()


@pytest.mark.usefixtures("only_session_rules")
def test_addendum_from_the_page(counselor_client, counselor):
    note = _signed(counselor)
    response = counselor_client.post(
        _url("note_addendum", note),
        {"kind": AddendumKind.ENTERED_IN_ERROR, "text": "Wrong client", "reason": "Mix-up"},
    )
    assert response.status_code == 302
    page = counselor_client.get(note.get_absolute_url()).content.decode()
    assert "Entered in error" in page and "Wrong client" in page


@pytest.mark.usefixtures("only_session_rules")
def test_addendum_without_reason_is_refused_on_the_page(counselor_client, counselor):
    note = _signed(counselor)
    response = counselor_client.post(
        _url("note_addendum", note), {"kind": "addendum", "text": "More", "reason": ""}
    )
    assert response.status_code == 400
    assert not note.addenda.exists()


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.usefixtures("only_session_rules")
def test_note_page_query_count_stays_constant_as_the_record_grows(
    counselor_client, counselor, django_assert_max_num_queries
):
    first = _signed(counselor)
    draft = start_note(counselor, first.client)
    quick_note_add(note=draft, user=counselor, text="one")
    addendum_add(note=first, user=counselor, kind="addendum", text="t", reason="r")
    draft_queries = _count(counselor_client, draft.get_absolute_url())
    signed_queries = _count(counselor_client, first.get_absolute_url())
    for i in range(4):
        _signed(counselor, first.client)
        quick_note_add(note=draft, user=counselor, text=f"more {i}")
        addendum_add(note=first, user=counselor, kind="addendum", text="t", reason="r")
    with django_assert_max_num_queries(draft_queries):
        counselor_client.get(draft.get_absolute_url())
    with django_assert_max_num_queries(signed_queries):
        counselor_client.get(first.get_absolute_url())


def test_note_page_reads_its_short_choice_lists_without_server_side_cursors(
    counselor_client, counselor, supervisor
):
    # The supervisor, assignee, hand-off and answered-task lists are tens of rows: one plain
    # SELECT each, never a DECLARE/FETCH/CLOSE cursor (three round trips) per rendering.
    note = start_note(counselor)
    with CaptureQueriesContext(connection) as ctx:
        page = counselor_client.get(note.get_absolute_url())
    assert page.status_code == 200
    assert supervisor.display_name in page.content.decode()  # the lists were rendered
    assert not [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("DECLARE")]


def test_resources_read_name_and_contact_once_and_empty_stages_show_no_edit_time(
    counselor_client, counselor
):
    from sessions.models import CommunityResource
    from sessions.models.clients import ResourceCategory

    CommunityResource.objects.create(
        clinic=counselor.clinic,
        category=ResourceCategory.LIFELINE_988,
        name="988 Suicide & Crisis Lifeline",
        contact="Call or text 988",
    )
    CommunityResource.objects.create(
        clinic=counselor.clinic, category=ResourceCategory.SHELTER, name="Harbour", contact="555"
    )
    note = start_note(counselor)
    html = counselor_client.get(note.get_absolute_url()).content.decode()
    assert "988 Suicide &amp; Crisis Lifeline (Call or text 988)" in html
    assert "Lifeline: 988" not in html
    assert "Shelter: Harbour (555)" in html
    assert "last edited" not in html and "not edited yet" not in html


def _rich_draft(counselor, teammate, supervisor):
    """A draft with one or more of every list its page shows: quick notes, the process note,
    a handoff (to `counselor`), a review thread, a consult reply, a supervisor notification, a
    disclosure, a follow-up task with an attempt; the clinic has a snippet, the counselor an
    unread notification (the handoff's)."""
    from datetime import timedelta

    from safety.services import disclosure_create, supervisor_notification_record
    from sessions.models import ConsultReply, ReviewComment, Snippet
    from sessions.services.followups import followup_attempt_log, followup_task_create
    from sessions.services.notes import note_handoff, process_note_save

    text = 'Tom & "Jerry" <b>x</b> — ñandú'
    note = start_note(teammate)
    note_handoff(note=note, user=teammate, to_user=counselor)
    note = reload(note)
    for line in ("first", f"second {text}"):
        quick_note_add(note=note, user=counselor, text=line)
    process_note_save(note=note, user=counselor, text=f"Process {text}")
    for round_, key in ((1, "exploration"), (1, ""), (2, "safety")):
        ReviewComment.objects.create(
            session=note,
            author=supervisor,
            author_name=supervisor.display_name,
            section_key=key,
            round=round_,
            text=f"Fix {key} {text}",
        )
    ConsultReply.objects.create(
        session=note, author=supervisor, author_name=supervisor.display_name, text=text
    )
    now = timezone.now()
    supervisor_notification_record(
        actor=counselor,
        note=note,
        supervisor=supervisor,
        method="phone",
        notified_at=now - timedelta(minutes=5),
        response=f"Agreed {text}",
    )
    disclosure_create(
        actor=counselor,
        note=note,
        data={
            "type": "duty_to_warn",
            "legal_basis": "Statute 1 & 2",
            "recipient": "Police <desk>",
            "disclosed_at": now - timedelta(minutes=3),
            "information_disclosed": text,
            "purpose": "Protect",
        },
    )
    task = followup_task_create(
        actor=counselor,
        note=note,
        assigned_to=teammate,
        method="call",
        due_at=now + timedelta(hours=3),
        purpose=text,
    )
    followup_attempt_log(actor=teammate, task=task, method="call", outcome="no_answer")
    Snippet.objects.create(clinic=counselor.clinic, shortcut="np", text=text, updated_by=supervisor)
    return note


@pytest.mark.parametrize("query", ["", "?sign=1"])
def test_draft_page_reads_its_lists_ahead_in_one_round_trip_and_renders_the_same(
    counselor_client, counselor, teammate, supervisor, monkeypatch, query
):
    """The draft page sends the statements of its reads after the note's together
    (crisisnotes/prepared.py read_ahead): the page is the one its reads give one by one, and
    none of them is sent again on its own."""
    import re

    from sessions.views import notes as note_views

    note = _rich_draft(counselor, teammate, supervisor)
    url = note.get_absolute_url() + query

    def page():
        with CaptureQueriesContext(connection) as captured:
            response = counselor_client.get(url)
        assert response.status_code == 200
        html = re.sub(r'"[A-Za-z0-9]{64}"', '"csrf"', response.content.decode())
        html = re.sub(r'data-idle-remaining="\d+"', "", html)
        return html, [q["sql"] for q in captured.captured_queries]

    # One instant for both renderings: the page's times (a datetime input's limit) are made
    # from the clock, and a minute ticking over between them differed in a loaded run.
    with time_machine.travel(timezone.now(), tick=False):
        ahead_page, ahead_sql = page()
        monkeypatch.setattr(note_views, "note_edit_page_ahead", lambda **kwargs: [])
        plain_page, plain_sql = page()
    assert ahead_page == plain_page
    for shown in ("Process Tom &amp;", "Fix exploration", "Police &lt;desk&gt;", "second Tom"):
        assert shown in ahead_page
    (together,) = [sql for sql in ahead_sql if ";\n" in sql]
    tables = (
        "crisis_sessions_consultreply",
        "crisis_sessions_reviewcomment",
        "crisis_sessions_notehandoff",
        "crisis_sessions_processnote",
        "crisis_sessions_snippet",
        "crisis_sessions_communityresource",
        "safety_supervisornotification",
        "safety_disclosure",
        "safety_safetyplanversion",
        "notifications_notification",
    )
    for table in tables:
        assert f'"{table}"' in together or f" {table} " in together
        assert not [sql for sql in ahead_sql if sql != together and f"{table}" in sql], table
    assert len(ahead_sql) <= len(plain_sql) - 13
    # The budget (23 read one by one): the session, the user, the clinic, the two-factor check;
    # the note and its quick notes (one statement outside a test's transaction); the audit row;
    # the reads ahead; the task's attempts and alerts (prefetched after its rows).
    assert len(ahead_sql) <= 9


def test_signed_page_reads_its_lists_ahead_and_renders_the_same(
    counselor_client, counselor, teammate, supervisor, monkeypatch
):
    """The locked note's page, as the draft's: its reads after the note's sent together, the
    page the same as read one by one."""
    import re

    from sessions.views import notes as note_views

    note = _rich_draft(counselor, teammate, supervisor)
    no = {f"safety-screen-{q}": "no" for q in ("q1", "q2", "q6")}
    data = complete_data(note, **no, **{"safety-means-agitation": "1"})
    answer = counselor_client.post(
        _url("note_end_sign", note), data, HTTP_ACCEPT="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert reload(note).status != NoteStatus.DRAFT
    counselor_client.get(note.get_absolute_url())  # shows "Signed" once

    def page(client):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(note.get_absolute_url())
        assert response.status_code == 200
        html = re.sub(r'"[A-Za-z0-9]{64}"', '"csrf"', response.content.decode())
        html = re.sub(r'data-idle-remaining="\d+"', "", html)
        return html, [q["sql"] for q in captured.captured_queries]

    for reader in (counselor, supervisor):
        client = login(counselor_client, reader)
        # One instant for both renderings, as the draft's test.
        with time_machine.travel(timezone.now(), tick=False), monkeypatch.context() as patched:
            ahead_page, ahead_sql = page(client)
            patched.setattr(note_views, "note_readonly_page_ahead", lambda **kwargs: [])
            plain_page, plain_sql = page(client)
        assert ahead_page == plain_page
        for shown in ("Fix exploration", "Police &lt;desk&gt;", "second Tom", "Handed"):
            assert shown in ahead_page
        # (Inside the test's transaction the note's own read is the plain one.) Two statements
        # sent together: the page's reads, and the content hash's own fresh reads for the
        # record's verification (sessions/hashing.py), which the plain page sends too.
        assert len([sql for sql in ahead_sql if ";\n" in sql]) == 2
        assert len([sql for sql in plain_sql if ";\n" in sql]) == 1
        assert len(ahead_sql) <= len(plain_sql) - 6


# The loop of templates/sessions/partials/contact_type_edit.html before the contact_type_radios
# filter wrote the radios.
_CONTACT_RADIOS_AS_A_TEMPLATE = (
    Path(__file__).with_name("radios_before_contact_type_radios.html").read_text()
)


@pytest.mark.parametrize("language", ["en", "es"])
def test_contact_type_radios_are_the_markup_of_the_loop_they_replace(counselor, language):
    """Each contact type checked in turn, none, an invalid posted value, a field of another
    id: the filter writes exactly what the template loop wrote."""
    from django.template import Context, Template
    from django.utils import translation

    from sessions.forms.notes import CONTACT_TYPE_KEYS, NoteHeaderForm
    from sessions.models.notes import ContactType
    from sessions.templatetags.note_edit_tags import contact_type_radios

    loop = Template(_CONTACT_RADIOS_AS_A_TEMPLATE)
    note = start_note(counselor)
    headers = [NoteHeaderForm(instance=note, prefix="header")]
    for value in [*ContactType.values, "", "<nothing>"]:
        headers.append(
            NoteHeaderForm({"header-contact_type": value}, instance=note, prefix="header")
        )
    headers.append(NoteHeaderForm(instance=note, prefix="other", auto_id="x_%s"))
    with translation.override(language):
        for header in headers:
            header.is_valid()
            radios = [(r, CONTACT_TYPE_KEYS[r.data["value"]]) for r in header["contact_type"]]
            expected = loop.render(Context({"radios": radios})).removeprefix("    ")
            assert str(contact_type_radios(header)) == expected.removesuffix("\n")
    assert "checked" in str(contact_type_radios(headers[1]))
