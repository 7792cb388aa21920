"""Helpers for note tests: start a note through the service, post the page's form data, fill the
fields this app's sign rules require."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from crisisnotes.accounts.models import User
from sessions import registry
from sessions.models import Client, CrisisSession
from sessions.models.notes import Disposition, Modality
from sessions.registry import NoteSection
from sessions.services.notes import note_create, note_form_data
from tests.factories import ClientFactory


def start_note(author: User, client: Client | None = None, **kwargs: Any) -> CrisisSession:
    client = client or ClientFactory(clinic=author.clinic, created_by=author)
    return note_create(
        author=author, client=client, modality=kwargs.pop("modality", Modality.PHONE), **kwargs
    )


def reload(note: CrisisSession) -> CrisisSession:
    rels = [rel for section in registry.sections() for rel in section.select_related()]
    return CrisisSession.objects.select_related("clinic", "author", *rels).get(pk=note.pk)


def form_data(note: CrisisSession, **overrides: Any) -> dict[str, Any]:
    """What the note page would post right now (every section), plus `overrides` by HTML name
    ("exploration-precipitating_event"); a value of None removes the key (unchecked box)."""
    note = reload(note)
    data: dict[str, Any] = {"version": str(note.version), **note_form_data(note=note)}
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


COMPLETE = {
    "header-confidentiality_explained": "on",
    "exploration-precipitating_event": "Lost job today; argument with partner.",
    "exploration-suds_start": "8",
    "exploration-suds_end": "4",
    "problem_solving-interventions": "Active listening, grounding, safety planning.",
    "follow_up-followup_plan": "Call back tomorrow morning.",
    "follow_up-disposition": Disposition.STABILISED,
    "follow_up-crisis_numbers_given": "on",
}


def complete_data(note: CrisisSession, **overrides: Any) -> dict[str, Any]:
    """Form data satisfying every sign rule of this app (end time included: 30 minutes after
    the start, or now for a note started less than that ago — a session cannot end in the
    future)."""
    ended_at = min(note.started_at + timedelta(minutes=30), timezone.now())
    ended = timezone.localtime(ended_at).strftime("%Y-%m-%dT%H:%M")
    return form_data(note, **{"header-ended_at": ended, **COMPLETE, **overrides})


def _silenced(section: NoteSection) -> NoteSection:
    """The same section without sign rules or co-sign reasons."""
    quiet = type(
        f"Silenced{type(section).__name__}",
        (type(section),),
        {"sign_problems": lambda self, note: (), "cosign_reasons": lambda self, note: []},
    )
    return quiet()


@pytest.fixture
def only_session_rules() -> Iterator[None]:
    """Limit sign rules and co-sign reasons to this app's, so tests of them do not depend on
    the rules other apps' sections bring (those apps test their own): other apps' sections
    stay (their rows, forms and content) but are silenced."""
    own = [
        s if type(s).__module__ == "sessions.sections" else _silenced(s)
        for s in registry.sections()
    ]
    with registry.override(*own):
        yield
