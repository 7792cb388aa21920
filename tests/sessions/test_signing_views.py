"""What the pages answer when a write meets a note that was signed meanwhile (another tab, a
double click), and the verification line on the page and in the PDF."""

from __future__ import annotations

import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from pypdf import PdfReader

from sessions.models.notes import NoteStatus
from sessions.services.exports import record_pdf
from sessions.services.notes import note_autosave
from sessions.services.review import note_cosign
from sessions.services.signing import note_content_hash, note_sign
from tests.conftest import login
from tests.factories import NoteFactory
from tests.sessions.note_helpers import (
    complete_data,
    form_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_session_rules")]


def _ready(author):
    note = start_note(author)
    return note_autosave(note=note, user=author, base_version=1, data=complete_data(note))


def _url(name, note):
    return reverse(f"crisis_sessions:{name}", args=[note.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_signing_a_note_signed_in_another_tab_redirects_with_already_signed(
    counselor_client, counselor
):
    note = _ready(counselor)
    page = form_data(note)  # the other tab's page, nothing new typed
    note_sign(note=note, user=counselor)
    response = counselor_client.post(_url("note_sign", note), page)
    assert response.status_code == 302 and response.url == _url("note_detail", note)
    assert any("already signed" in m for m in _messages(response))


def test_signing_with_text_the_record_lacks_answers_409_and_shows_that_text(
    counselor_client, counselor
):
    note = _ready(counselor)
    page = form_data(note, **{"exploration-affect_notes": "Typed in the late tab"})
    note_sign(note=note, user=counselor)
    response = counselor_client.post(_url("note_sign", note), page)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="unsaved-text"' in html and "Typed in the late tab" in html
    assert "already signed" in html
    stored = reload(note)
    assert stored.exploration.affect_notes == "" and stored.content_hash == note_content_hash(
        stored
    )


def test_sign_as_json_answers_409_locked(counselor_client, counselor):
    note = _ready(counselor)
    note_sign(note=note, user=counselor)
    response = counselor_client.post(
        _url("note_sign", note), form_data(note), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"] == "locked"
    assert "already signed" in response.json()["message"]


def test_autosave_into_a_signed_note_is_a_409_that_keeps_the_text(counselor_client, counselor):
    note = _ready(counselor)
    page = form_data(note, **{"exploration-affect_notes": "Still typing"})
    note_sign(note=note, user=counselor)
    response = counselor_client.post(_url("note_save", note), page, HTTP_X_AUTOSAVE="1")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "locked"
    assert "already signed" in body["message"] and "still on this page" in body["message"]
    assert reload(note).exploration.affect_notes == ""


@pytest.mark.parametrize("action", ["note_save", "note_end", "note_copy_forward"])
def test_page_buttons_on_a_signed_note_are_never_a_403(counselor_client, counselor, action):
    note = _ready(counselor)
    page = form_data(note)
    note_sign(note=note, user=counselor)
    response = counselor_client.post(_url(action, note), page)
    assert response.status_code == 302
    assert any("already signed" in m for m in _messages(response))


def test_quick_note_into_a_signed_note_is_a_409_for_htmx(counselor_client, counselor):
    note = _ready(counselor)
    note_sign(note=note, user=counselor)
    response = counselor_client.post(
        _url("note_quick_note", note), {"text": "late"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert not reload(note).quick_notes.exists()


def test_another_authors_note_is_still_refused(client, counselor, teammate):
    note = _ready(counselor)
    response = login(client, teammate).post(
        _url("note_save", note), form_data(note), HTTP_X_AUTOSAVE="1"
    )
    assert response.status_code in (403, 404)
    assert reload(note).status == NoteStatus.DRAFT


def test_save_then_sign_keeps_the_save_when_a_rule_refuses(counselor_client, counselor):
    note = _ready(counselor)
    page = form_data(
        note,
        **{"exploration-affect_notes": "Kept although not signed", "follow_up-followup_plan": ""},
    )
    response = counselor_client.post(_url("note_sign", note), page)
    assert response.status_code == 302 and "sign=1" in response.url
    stored = reload(note)
    assert stored.status == NoteStatus.DRAFT
    assert stored.exploration.affect_notes == "Kept although not signed"


def test_cosigning_twice_tells_the_second_it_was_already_cosigned(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_cosign(note=note, supervisor=supervisor)
    browser = login(client, supervisor)
    response = browser.post(_url("review_cosign", note))
    assert response.status_code == 302 and response.url == reverse("crisis_sessions:review_queue")
    assert any("already co-signed" in m for m in _messages(response))
    response = browser.post(_url("review_cosign", note), HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and response.json()["error"] == "already_decided"


def test_returning_after_a_return_is_told_already_returned(client, supervisor, trainee):
    from sessions.services.review import note_return

    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_return(note=note, supervisor=supervisor, comments=[("", "Add the plan.")])
    response = login(client, supervisor).post(
        _url("review_cosign", note), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    assert "already returned" in response.json()["message"]


def test_cosign_refuses_a_record_that_no_longer_verifies(client, supervisor, trainee):
    from django.db import connection

    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE crisis_sessions_explorationstage SET precipitating_event = 'x' "
            "WHERE session_id = %s",
            [note.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    response = login(client, supervisor).post(_url("review_cosign", note))
    assert response.status_code == 302
    assert any("does not verify" in m for m in _messages(response))
    assert reload(note).status == NoteStatus.AWAITING_COSIGN


def test_review_page_shows_the_verification(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    html = login(client, supervisor).get(_url("review_note", note)).content.decode()
    assert "Record verified: content hash matches" in html


def test_pdf_prints_whether_the_record_verifies(counselor, supervisor, trainee):
    def text(pdf: bytes) -> str:
        reader = PdfReader(io.BytesIO(pdf))
        return " ".join(" ".join(p.extract_text() for p in reader.pages).split())

    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    assert "Record verified: content hash matches." in text(
        record_pdf(note=note, generated_by=counselor)
    )
    cosigned = note_cosign(
        note=NoteFactory.create(awaiting_cosign=True, author=trainee), supervisor=supervisor
    )
    assert "Record verified: content hash matches and co-sign hash matches." in text(
        record_pdf(note=reload(cosigned), generated_by=supervisor)
    )

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE crisis_sessions_crisissession SET cosigner_licence = 'forged' WHERE id = %s",
            [cosigned.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    printed = text(record_pdf(note=reload(cosigned), generated_by=supervisor))
    assert "this record does not verify (co-sign hash does not match" in printed
    assert "Record verified" not in printed


def test_end_session_racing_a_sign_in_another_tab_is_told_already_signed(
    counselor_client, counselor, monkeypatch
):
    """The other tab signs between this page's save and its end time (simulated by signing
    inside the view's call to note_end): the answer is "already signed", not a 500."""
    from sessions.views import notes as views

    note = _ready(counselor)
    real_end = views.note_end

    def end_after_the_other_tab_signed(**kwargs):
        note_sign(note=kwargs["note"], user=counselor)
        return real_end(**kwargs)

    monkeypatch.setattr(views, "note_end", end_after_the_other_tab_signed)
    response = counselor_client.post(_url("note_end", note), form_data(note))
    assert response.status_code == 302
    assert any("already signed" in m for m in _messages(response))


def test_end_and_sign_reads_the_draft_row_not_the_page(counselor_client, counselor):
    """The page's posts lock and re-read the note in their services: the view's own read of
    the draft is its row, not the page's 13-table join and its quick notes and addenda."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note = _ready(counselor)
    # A plain post (the JSON answer also carries the signed page, which reads the addenda).
    with CaptureQueriesContext(connection) as captured:
        response = counselor_client.post(_url("note_end_sign", note), complete_data(note))
    assert response.status_code == 302
    assert reload(note).status == NoteStatus.SIGNED
    assert not [q for q in captured.captured_queries if "_addendum" in q["sql"]]


def test_end_and_sign_answer_carries_the_signed_page_audited_as_its_view(
    counselor_client, counselor
):
    """note.js shows the signed note in place from the answer (no second request): the answer
    holds the page its GET gives — the signed record, its one-time message — and records the
    view in the audit as that GET did, once."""
    from crisisnotes.audit.models import Action, AuditEvent

    note = _ready(counselor)
    views = AuditEvent.objects.filter(action=Action.VIEW, object_id=str(note.pk))
    before = views.count()
    response = counselor_client.post(
        _url("note_end_sign", note), complete_data(note), HTTP_ACCEPT="application/json"
    )
    body = response.json()
    assert body["signed"] is True and body["url"] == f"/notes/{note.pk}/"
    assert f'id="note-locked" data-note-id="{note.pk}"' in body["page"]
    assert 'data-testid="note-status">Signed<' in body["page"]
    assert "Signed and locked." in body["page"]
    assert views.count() == before + 1
    # The message was shown with the answer: the note's next page does not repeat it.
    page = counselor_client.get(f"/notes/{note.pk}/").content.decode()
    assert "Signed and locked." not in page


@pytest.mark.django_db(transaction=True)
def test_end_and_sign_saves_ends_and_signs_in_one_transaction(counselor_client, counselor):
    """Like "Sign note": what the page posted is saved, the clock stopped and the note signed
    under one lock, so nothing can slip in between what was saved and what is hashed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note = _ready(counselor)
    data = complete_data(note)
    data["header-ended_at"] = ""  # the clock still running: the request stops it
    with CaptureQueriesContext(connection) as captured:
        response = counselor_client.post(
            _url("note_end_sign", note), data, HTTP_ACCEPT="application/json"
        )
    assert response.json()["signed"] is True
    signed = reload(note)
    assert signed.status == NoteStatus.SIGNED and signed.ended_at is not None
    assert signed.content_hash == note_content_hash(signed)
    assert [q["sql"] for q in captured.captured_queries].count("BEGIN") == 1


def test_end_and_sign_with_stages_saves_those_and_signs_every_stored_row(
    counselor_client, counselor
):
    """note.js posts only the stages that differ from its last confirmed save (`stages`), as
    an autosave does: those are saved, every other stage is signed as stored (its fields absent
    from the post change nothing), and the rules and the hash run on the whole stored record."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note = _ready(counselor)
    before = reload(note)
    data = {"version": str(note.version), "stages": "exploration", "confirmed": "1"}
    data |= {
        k: v
        for k, v in complete_data(
            note, **{"exploration-affect_notes": "Typed just before signing"}
        ).items()
        if k.startswith("exploration-")
    }
    with CaptureQueriesContext(connection) as captured:
        response = counselor_client.post(
            _url("note_end_sign", note), data, HTTP_ACCEPT="application/json"
        )
    assert response.json()["signed"] is True, response.content
    signed = reload(note)
    assert signed.status == NoteStatus.SIGNED
    assert signed.exploration.affect_notes == "Typed just before signing"
    # The stages not posted: as stored, not emptied by their absent fields.
    assert signed.problem_solving.interventions == before.problem_solving.interventions != ""
    assert signed.follow_up.followup_plan == "Call back tomorrow morning."
    assert signed.confidentiality_explained and signed.contact_type == before.contact_type
    assert signed.content_hash == note_content_hash(signed)
    # Only the posted stage's row was written.
    written = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assert [sql for sql in written if "_explorationstage" in sql]
    assert not [sql for sql in written if "_problemsolvingstage" in sql]


def test_sign_with_stages_saves_those_and_signs_the_others_as_stored(counselor_client, counselor):
    """ "Sign note" takes a partial post as end-and-sign does: a stage not named in `stages` is
    signed as stored, not emptied because its fields are absent."""
    note = _ready(counselor)
    before = reload(note)
    data = {"version": str(note.version), "stages": "exploration", "confirmed": "1"}
    data |= {
        k: v
        for k, v in complete_data(note, **{"exploration-affect_notes": "Typed last"}).items()
        if k.startswith("exploration-")
    }
    counselor_client.post(_url("note_sign", note), data)
    signed = reload(note)
    assert signed.status == NoteStatus.SIGNED
    assert signed.exploration.affect_notes == "Typed last"
    assert signed.problem_solving.interventions == before.problem_solving.interventions != ""
    assert signed.content_hash == note_content_hash(signed)


def test_end_and_sign_with_no_stage_changed_is_refused_on_what_is_stored(
    counselor_client, counselor
):
    """An empty `stages` (the page holds what the server holds) saves nothing and the rules
    still see every stored row: what the stored note lacks refuses the signature."""
    note = start_note(counselor)
    data = complete_data(note)
    data["header-confidentiality_explained"] = ""  # a rule every contact type keeps
    note = note_autosave(note=note, user=counselor, base_version=1, data=data)
    response = counselor_client.post(
        _url("note_end_sign", note),
        {"version": str(note.version), "stages": "", "confirmed": "1"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 422 and response.json()["signed"] is False
    fields = {p["field_id"] for p in response.json()["problems"]}
    assert "id_header-confidentiality_explained" in fields
    assert reload(note).status == NoteStatus.DRAFT


def test_end_and_sign_with_stages_at_an_old_version_is_told_to_reload(counselor_client, counselor):
    """A partial sign is checked against the version like a whole one: another tab's save in
    between is a conflict, nothing saved or signed."""
    note = _ready(counselor)
    seen = note.version
    other_tab = form_data(note, **{"exploration-affect_notes": "Typed in the other tab"})
    note_autosave(note=note, user=counselor, base_version=seen, data=other_tab)
    response = counselor_client.post(
        _url("note_end_sign", note),
        {"version": str(seen), "stages": "rapport", "confirmed": "1"}
        | {k: v for k, v in form_data(note).items() if k.startswith("rapport-")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409 and response.json()["reload"] is True
    stored = reload(note)
    assert stored.status == NoteStatus.DRAFT
    assert stored.exploration.affect_notes == "Typed in the other tab"


def test_end_and_sign_refused_by_the_rules_keeps_the_text_and_the_end_time(
    counselor_client, counselor
):
    note = _ready(counselor)
    data = complete_data(note, **{"exploration-affect_notes": "Typed before signing"})
    data["header-ended_at"] = ""
    data["header-confidentiality_explained"] = ""  # a rule every contact type keeps
    response = counselor_client.post(
        _url("note_end_sign", note), data, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 422 and response.json()["signed"] is False
    stored = reload(note)
    assert stored.status == NoteStatus.DRAFT and stored.ended_at is not None
    assert response.json()["ended_at"]
    assert stored.exploration.affect_notes == "Typed before signing"


@pytest.mark.parametrize("meanwhile", ["signed", "saved"])
def test_end_and_sign_by_script_after_another_tab_acted_is_told_to_reload(
    counselor_client, counselor, meanwhile
):
    """note.js reloads on this answer and the page says which (the signed record, or the
    conflict); an HTML page here was read as "offline"."""
    note = _ready(counselor)
    page = form_data(note)
    if meanwhile == "signed":
        note_sign(note=note, user=counselor)
    else:
        other_tab = form_data(note, **{"exploration-affect_notes": "Typed in the other tab"})
        note_autosave(note=note, user=counselor, base_version=note.version, data=other_tab)
    response = counselor_client.post(
        _url("note_end_sign", note), page, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409 and response.json()["reload"] is True
