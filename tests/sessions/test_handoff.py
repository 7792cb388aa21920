"""Shift handoff: the author hands an open draft to a colleague, who becomes its author; both
names and the time stay on the record (hashed, append-only), audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.test import Client as DjangoClient

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import AuditEvent
from sessions.exceptions import NoteError
from sessions.models import NoteHandoff
from sessions.services.notes import note_handoff, process_note_save
from sessions.services.signing import note_content_hash, note_sign
from tests.factories import UserFactory
from tests.safety.helpers import NONE, screen
from tests.sessions.note_helpers import complete_data, form_data, reload, start_note

pytestmark = pytest.mark.django_db


def test_handoff_makes_the_colleague_the_author_and_keeps_both_names(
    counselor: User, teammate: User
) -> None:
    note = start_note(counselor)
    version = note.version
    handoff = note_handoff(note=note, user=counselor, to_user=teammate)
    note = reload(note)
    assert note.author_id == teammate.pk and note.version == version + 1
    assert (handoff.from_name, handoff.to_name) == (counselor.display_name, teammate.display_name)
    assert handoff.handed_at is not None
    assert AuditEvent.objects.filter(summary__contains="handed off from").count() == 1
    with pytest.raises(PermissionDenied):  # the old author no longer edits it
        note_handoff(note=note, user=counselor, to_user=teammate)


def test_handoff_refuses_self_other_clinic_inactive_or_non_counselor(
    counselor: User, teammate: User, outsider: User, clinic_admin: User
) -> None:
    note = start_note(counselor)
    gone = UserFactory(clinic=counselor.clinic, is_active=False)
    for target in (counselor, outsider, gone, clinic_admin):
        with pytest.raises(NoteError):
            note_handoff(note=note, user=counselor, to_user=target)
    assert reload(note).author_id == counselor.pk
    assert not NoteHandoff.objects.exists()


def test_handoff_is_in_the_hash_and_frozen_after_signing(counselor: User, teammate: User) -> None:
    from sessions.services.notes import note_autosave

    note = start_note(counselor)
    before = note_content_hash(reload(note))
    note_handoff(note=note, user=counselor, to_user=teammate)
    assert note_content_hash(reload(note)) != before
    note = reload(note)
    data = complete_data(note, **screen(NONE), **{"safety-means-agitation": "1"})
    note_autosave(note=note, user=teammate, base_version=note.version, data=data)
    signed = note_sign(note=reload(note), user=teammate)
    assert signed.signer_name == teammate.display_name
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE crisis_sessions_notehandoff SET to_name = 'someone else'")


def test_previous_authors_process_note_stays_private_after_handoff(
    counselor: User, teammate: User
) -> None:
    note = start_note(counselor)
    process_note_save(note=note, user=counselor, text="My own reflections.")
    note_handoff(note=note, user=counselor, to_user=teammate)
    with pytest.raises(PermissionDenied):
        process_note_save(note=reload(note), user=teammate, text="Overwrite?")
    assert note.process_note.text == "My own reflections."


def test_handoff_view_saves_the_typed_text_first(
    counselor_client: DjangoClient, counselor: User, teammate: User
) -> None:
    note = start_note(counselor)
    data = form_data(note, **{"exploration-precipitating_event": "Typed just before handoff."})
    data["handoff_to"] = str(teammate.pk)
    response = counselor_client.post(f"/notes/{note.pk}/handoff/", data)
    assert response.status_code == 302 and response["Location"] == "/work/"
    note = reload(note)
    assert note.author_id == teammate.pk
    assert note.exploration.precipitating_event == "Typed just before handoff."
    assert counselor_client.get(f"/notes/{note.pk}/").status_code == 404  # a colleague's draft


def test_handoff_select_lists_the_colleagues_as_the_template_loop_did(
    counselor: User, teammate: User
) -> None:
    """The options are written in Python (sessions.views.notes._handoff_options): the same
    bytes as the template loop they replaced, names escaped, the author left out."""
    from django.template import Context, Template

    from sessions.selectors.followups import followup_assignee_choices, followup_assignee_names
    from sessions.views.notes import _handoff_options

    UserFactory(clinic=counselor.clinic, full_name='Ann <"B"> & Co', is_counselor=True)
    UserFactory(clinic=counselor.clinic, full_name="", username="no_name", is_counselor=True)
    loop = Template(
        "{% for colleague in handoff_choices %}"
        '<option value="{{ colleague.pk }}">{{ colleague.display_name }}</option>'
        "{% endfor %}"
    ).render(
        Context(
            {"handoff_choices": followup_assignee_choices(user=counselor).exclude(pk=counselor.pk)}
        )
    )
    assert _handoff_options(counselor, followup_assignee_names(user=counselor)) == loop
    assert teammate.display_name in loop
    assert "Ann &lt;&quot;B&quot;&gt; &amp; Co" in loop
    assert f'value="{counselor.pk}"' not in loop
