"""Private process notes (CLINICAL.md §10): the author's only, outside the record."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from sessions.models.notes import ProcessNote
from sessions.services.notes import note_autosave, process_note_save
from sessions.services.signing import note_content_hash, note_sign
from tests.conftest import login
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_session_rules")]


def _signed(author):
    note = start_note(author)
    note = note_autosave(note=note, user=author, base_version=1, data=complete_data(note))
    return note_sign(note=note, user=author)


def test_process_note_is_outside_the_record_and_stays_editable_after_signing(counselor):
    note = _signed(counselor)
    before = note_content_hash(reload(note))
    process_note_save(note=note, user=counselor, text="I felt rushed; talk to supervisor.")
    process_note_save(note=note, user=counselor, text="Felt rushed. Raise in supervision.")
    assert ProcessNote.objects.get(session=note).text == "Felt rushed. Raise in supervision."
    assert note_content_hash(reload(note)) == before


def test_only_the_author_writes_a_process_note(counselor, supervisor):
    note = _signed(counselor)
    with pytest.raises(PermissionDenied):
        process_note_save(note=note, user=supervisor, text="not mine")


def test_process_note_is_shown_to_its_author_only(client, counselor, teammate, clinic_admin):
    note = _signed(counselor)
    process_note_save(note=note, user=counselor, text="Private reflection")
    login(client, counselor)
    assert "Private reflection" in client.get(note.get_absolute_url()).content.decode()
    for user in (teammate, clinic_admin):
        login(client, user)
        page = client.get(note.get_absolute_url())
        assert page.status_code == 200
        assert "Private reflection" not in page.content.decode()
        assert "Private process note" not in page.content.decode()
    url = reverse("crisis_sessions:note_process_note", args=[note.pk])
    login(client, teammate)
    assert client.post(url, {"text": "x"}).status_code == 403


def test_process_note_from_the_draft_page(client, counselor):
    note = start_note(counselor)
    login(client, counselor)
    url = reverse("crisis_sessions:note_process_note", args=[note.pk])
    response = client.post(url, {"text": "Heavy call"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Heavy call" in response.content.decode()
    assert "Heavy call" in client.get(note.get_absolute_url()).content.decode()
