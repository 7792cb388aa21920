"""get_<field>_display() through ChoiceLabelsMixin answers as Django's own does."""

from __future__ import annotations

from django.db.models import Model
from django.utils import translation

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import CrisisSession
from sessions.models.notes import Modality


def _djangos(instance: object, name: str) -> object:
    field = type(instance)._meta.get_field(name)
    return Model._get_FIELD_display(instance, field)


def test_labels_match_djangos_in_the_active_language_and_unknown_values_pass_through():
    for value in [*Action.values, "not_an_action", ""]:
        event = AuditEvent(action=value)
        assert event.get_action_display() == _djangos(event, "action")
    note = CrisisSession(modality=Modality.PHONE)
    english = note.get_modality_display()
    with translation.override("es"):
        spanish = note.get_modality_display()
        assert spanish == _djangos(note, "modality")
    assert english == _djangos(note, "modality") and english != spanish
