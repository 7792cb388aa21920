from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crisisnotes.audit.models import Action, AuditEvent
from sessions.exceptions import AddendumError
from sessions.models.notes import AddendumKind
from sessions.services.addenda import addendum_add
from sessions.services.notes import note_autosave
from sessions.services.signing import note_sign
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    start_note,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_session_rules")]


@pytest.fixture
def signed(counselor):
    note = start_note(counselor)
    note = note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))
    return note_sign(note=note, user=counselor)


def test_addenda_are_appended_in_order_with_author_and_reason(signed, counselor, supervisor):
    addendum_add(
        note=signed, user=counselor, kind=AddendumKind.LATE_ENTRY, text="Called back", reason="Late"
    )
    addendum_add(
        note=signed,
        user=supervisor,
        kind=AddendumKind.CORRECTION,
        text="SUDS end was 5",
        reason="Typo",
    )
    rows = list(signed.addenda.order_by("created_at", "id"))
    assert [(a.kind, a.author_name) for a in rows] == [
        ("late_entry", counselor.full_name),
        ("correction", supervisor.full_name),
    ]
    assert AuditEvent.objects.filter(action=Action.ADDENDUM, object_id=str(signed.pk)).count() == 2


def test_entered_in_error_marks_but_keeps_the_note(signed, counselor):
    addendum_add(
        note=signed,
        user=counselor,
        kind=AddendumKind.ENTERED_IN_ERROR,
        text="Wrong client",
        reason="Picked the wrong record",
    )
    signed.refresh_from_db()
    assert signed.status == "signed"
    assert signed.addenda.filter(kind=AddendumKind.ENTERED_IN_ERROR).exists()


def test_addendum_needs_text_and_reason(signed, counselor):
    with pytest.raises(ValidationError) as error:
        addendum_add(note=signed, user=counselor, kind="addendum", text=" ", reason="")
    assert set(error.value.message_dict) == {"text", "reason"}
    assert not signed.addenda.exists()


def test_a_draft_takes_no_addendum(counselor):
    with pytest.raises(AddendumError):
        addendum_add(
            note=start_note(counselor), user=counselor, kind="addendum", text="x", reason="y"
        )


def test_another_clinic_or_a_teammate_cannot_add_an_addendum(signed, outsider, teammate):
    for user in (outsider, teammate):
        with pytest.raises(PermissionDenied):
            addendum_add(note=signed, user=user, kind="addendum", text="x", reason="y")
