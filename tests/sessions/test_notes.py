from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.prepared import read_ahead
from sessions import registry
from sessions.exceptions import NoteConflict, NoteError, NoteInvalid, NoteLocked
from sessions.models import CrisisSession, ExplorationStage, FollowUpStage, QuickNote, RapportStage
from sessions.models.notes import NoteStatus
from sessions.selectors.notes import section_relations
from sessions.services import notes as notes_services
from sessions.services.notes import (
    note_autosave,
    note_copy_forward,
    note_create,
    note_end,
    quick_note_add,
)
from sessions.services.signing import note_sign
from tests.factories import ClientFactory
from tests.sessions.note_helpers import (
    complete_data,
    form_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = pytest.mark.django_db


def test_note_create_starts_the_clock_and_creates_every_stage_row(counselor):
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    note = note_create(author=counselor, client=client, modality="text")
    assert note.status == NoteStatus.DRAFT
    assert note.version == 1
    assert note.started_at is not None and note.ended_at is None
    for model in (ExplorationStage, RapportStage, FollowUpStage):
        assert model.objects.filter(session=note).exists()
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="crisis_sessions.crisissession", object_id=str(note.pk)
    ).exists()


def test_note_create_refuses_a_client_of_another_clinic(counselor, outsider):
    foreign = ClientFactory(clinic=outsider.clinic, created_by=outsider)
    with pytest.raises(PermissionDenied):
        note_create(author=counselor, client=foreign, modality="phone")


def test_autosave_saves_every_section_bumps_the_version_and_audits(counselor):
    note = start_note(counselor)
    data = form_data(
        note,
        **{
            "exploration-precipitating_event": "Eviction notice",
            "rapport-engagement_notes": "Warmed up after a few minutes",
            "header-confidentiality_explained": "on",
        },
    )
    saved = note_autosave(note=note, user=counselor, base_version=1, data=data)
    assert saved.version == 2
    note = reload(note)
    assert note.exploration.precipitating_event == "Eviction notice"
    assert note.rapport.engagement_notes == "Warmed up after a few minutes"
    assert note.confidentiality_explained is True
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(note.pk)).count() == 1


def test_autosave_without_changes_keeps_the_version(counselor):
    note = start_note(counselor)
    saved = note_autosave(note=note, user=counselor, base_version=1, data=form_data(note))
    assert saved.version == 1


def test_autosave_against_an_older_version_is_a_conflict_and_saves_nothing(counselor):
    note = start_note(counselor)
    first_tab = form_data(note, **{"exploration-precipitating_event": "From tab one"})
    second_tab = form_data(note, **{"exploration-precipitating_event": "From tab two"})
    note_autosave(note=note, user=counselor, base_version=1, data=first_tab)
    with pytest.raises(NoteConflict) as conflict:
        note_autosave(note=note, user=counselor, base_version=1, data=second_tab)
    assert conflict.value.current_version == 2
    note = reload(note)
    assert note.exploration.precipitating_event == "From tab one"
    assert note.version == 2


def test_invalid_field_saves_nothing_at_all(counselor):
    note = start_note(counselor)
    data = form_data(
        note,
        **{
            "exploration-precipitating_event": "Typed before the mistake",
            "exploration-suds_start": "11",
        },
    )
    with pytest.raises(NoteInvalid) as invalid:
        note_autosave(note=note, user=counselor, base_version=1, data=data)
    assert "id_exploration-suds_start" in invalid.value.errors
    note = reload(note)
    assert note.exploration.precipitating_event == ""
    assert note.version == 1


def _stage_only(data, *prefixes):
    """What note.js posts for a partial autosave: the version, every field of the named stages
    (by HTML name prefix) and a `stages` entry per stage."""
    return {
        "version": data["version"],
        **{k: v for k, v in data.items() if k.startswith(tuple(f"{p}-" for p in prefixes))},
    }


def test_partial_autosave_writes_only_the_named_stages(counselor):
    """A stage the post does not name stays as stored even though none of its fields are in the
    data (a missing field means unchanged, never cleared); the named stage is saved from all
    of its posted fields, an unchecked box included."""
    note = start_note(counselor)
    note = note_autosave(
        note=note,
        user=counselor,
        base_version=1,
        data=form_data(
            note,
            **{
                "header-confidentiality_explained": "on",
                "rapport-engagement_notes": "Warmed up slowly",
                "follow_up-crisis_numbers_given": "on",
                "exploration-precipitating_event": "Eviction",
            },
        ),
    )
    assert note.version == 2
    data = _stage_only(
        form_data(
            note,
            **{
                "exploration-precipitating_event": "Eviction notice today",
                "follow_up-crisis_numbers_given": None,  # unchecked, but follow-up not posted
                "rapport-engagement_notes": "",  # emptied, but rapport not posted
            },
        ),
        "exploration",
    )
    saved = note_autosave(
        note=note, user=counselor, base_version=2, data=data, stages=["exploration"]
    )
    assert saved.version == 3
    note = reload(note)
    assert note.exploration.precipitating_event == "Eviction notice today"
    assert note.rapport.engagement_notes == "Warmed up slowly"
    assert note.follow_up.crisis_numbers_given is True
    assert note.confidentiality_explained is True
    event = AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(note.pk)).latest("id")
    assert event.summary.endswith(": exploration")
    # The header named: its unchecked box is saved as unchecked.
    header = _stage_only(form_data(note, **{"header-confidentiality_explained": None}), "header")
    note_autosave(note=note, user=counselor, base_version=3, data=header, stages=["header"])
    assert reload(note).confidentiality_explained is False


def test_partial_autosave_at_an_older_version_is_a_conflict(counselor):
    """Posting less is no way around the version check: a partial save from a page that has
    not seen another tab's save is refused and saves nothing."""
    note = start_note(counselor)
    stale = _stage_only(form_data(note, **{"rapport-engagement_notes": "From tab two"}), "rapport")
    note_autosave(
        note=note,
        user=counselor,
        base_version=1,
        data=form_data(note, **{"exploration-precipitating_event": "From tab one"}),
    )
    with pytest.raises(NoteConflict):
        note_autosave(note=note, user=counselor, base_version=1, data=stale, stages=["rapport"])
    note = reload(note)
    assert note.rapport.engagement_notes == ""
    assert note.version == 2


def test_end_before_start_is_refused(counselor):
    note = start_note(counselor)
    before = (note.started_at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    with pytest.raises(NoteInvalid) as invalid:
        note_autosave(
            note=note,
            user=counselor,
            base_version=1,
            data=form_data(note, **{"header-ended_at": before}),
        )
    assert "id_header-ended_at" in invalid.value.errors


def test_only_the_author_edits_a_draft(counselor, teammate):
    note = start_note(counselor)
    with pytest.raises(PermissionDenied):
        note_autosave(note=note, user=teammate, base_version=1, data=form_data(note))


@pytest.mark.usefixtures("only_session_rules")
def test_signed_note_refuses_autosave(counselor):
    note = start_note(counselor)
    note = note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))
    note_sign(note=note, user=counselor)
    with pytest.raises(NoteLocked):
        note_autosave(
            note=note,
            user=counselor,
            base_version=note.version,
            data=form_data(note, **{"exploration-precipitating_event": "changed"}),
        )


def test_end_session_sets_the_end_time_once(counselor):
    note = start_note(counselor)
    ended = note_end(note=note, user=counselor, base_version=1)
    assert ended.ended_at is not None and ended.version == 2
    again = note_end(note=ended, user=counselor, base_version=2)
    assert again.ended_at == ended.ended_at and again.version == 2


def test_quick_notes_are_appended_with_time(counselor):
    note = start_note(counselor)
    quick_note_add(note=note, user=counselor, text="mentions sister nearby")
    quick_note_add(note=note, user=counselor, text="dog is a reason to live")
    assert list(QuickNote.objects.filter(session=note).values_list("text", flat=True)) == [
        "mentions sister nearby",
        "dog is a reason to live",
    ]
    with pytest.raises(NoteError):
        quick_note_add(note=note, user=counselor, text="   ")


@pytest.mark.usefixtures("only_session_rules")
def test_copy_forward_pulls_supports_triggers_resources_referrals_of_last_signed_session(
    counselor,
):
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    earlier = start_note(counselor, client)
    data = complete_data(
        earlier,
        **{
            "follow_up-supports": "Sister Dana (invented), neighbour",
            "follow_up-triggers": "Anniversaries, drinking alone",
            "follow_up-referral_1_to": "Demo walk-in clinic",
            "follow_up-referral_1_urgency": "urgent",
        },
    )
    earlier = note_autosave(note=earlier, user=counselor, base_version=1, data=data)
    RapportStage.objects.filter(session=earlier).update(
        resources_given=[{"category": "988", "name": "988 Lifeline", "contact": "988"}]
    )
    note_sign(note=earlier, user=counselor)

    note = start_note(counselor, client)
    note_autosave(
        note=note,
        user=counselor,
        base_version=1,
        data=form_data(note, **{"follow_up-supports": "Friend at work"}),
    )
    note, source = note_copy_forward(note=note, user=counselor, base_version=2)
    assert source.pk == earlier.pk
    note = reload(note)
    assert note.follow_up.supports == "Friend at work\nSister Dana (invented), neighbour"
    assert note.follow_up.triggers == "Anniversaries, drinking alone"
    assert note.follow_up.referrals[0]["to"] == "Demo walk-in clinic"
    assert note.rapport.resources_given[0]["name"] == "988 Lifeline"
    assert note.version == 3


def test_copy_forward_without_an_earlier_signed_session_says_so(counselor):
    note = start_note(counselor)
    with pytest.raises(NoteError, match="no earlier signed session"):
        note_copy_forward(note=note, user=counselor, base_version=1)


@pytest.mark.parametrize(
    ("kwargs", "joined"),
    [
        ({}, ("author", "clinic")),
        ({"related": ("author__team",)}, ("author", "clinic", "author__team")),
        ({"sections": {"exploration"}}, ("author", "clinic")),
    ],
)
def test_the_locked_read_is_the_orms_and_never_takes_rows_read_ahead(counselor, kwargs, joined):
    """note_lock reads the note through a compiled read (crisisnotes/prepared.py): the SQL the
    ORM writes for the same select_related, and never rows read before the lock was held."""
    note = start_note(counselor)
    sections = kwargs.get("sections")
    relations = (
        section_relations()
        if sections is None
        else [r for s in registry.sections() if s.key in sections for r in s.select_related()]
    )
    orm = CrisisSession.objects.select_related(*joined, *relations).filter(pk=note.pk)
    arguments = {
        "note_id": note.pk,
        "related": tuple(kwargs.get("related", ())),
        "sections": None if sections is None else frozenset(sections),
        "with_author": True,
    }
    statement = notes_services._LOCKED_READ.statement(**arguments)
    assert statement[0] == orm.query.sql_with_params()[0]
    with transaction.atomic(), read_ahead([statement]):  # rows of the old text, read ahead
        ExplorationStage.objects.filter(session=note).update(precipitating_event="After the read")
        with CaptureQueriesContext(connection) as queries:
            locked = notes_services.note_lock(note_id=note.pk, **kwargs)
        assert locked.exploration.precipitating_event == "After the read"
        assert len(queries) == 2  # the row lock, then the read itself (the rows ahead untaken)
        assert locked.author == counselor and locked.clinic == counselor.clinic
