"""Helpers for safety tests: save the Safety stage through the note's own autosave (as the page
does) and run only this app's sign rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from crisisnotes.accounts.models import User
from safety.rules import RULES
from sessions.models import CrisisSession, FollowUpTask
from sessions.services.notes import note_autosave
from tests.sessions.note_helpers import form_data, reload, start_note

__all__ = ["add_task", "codes", "reload", "save", "start_note"]

# C-SSRS answers that make the screen high (4 = yes), moderate (3 = yes), low (1 = yes), none.
HIGH = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no", "q6": "no"}
MODERATE = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "no", "q5": "no", "q6": "no"}
LOW = {"q1": "yes", "q2": "no", "q6": "no"}
NONE = {"q1": "no", "q2": "no", "q6": "no"}


def screen(answers: dict[str, str]) -> dict[str, Any]:
    """Overrides posting exactly these answers (every other item unanswered)."""
    data: dict[str, Any] = {
        f"safety-screen-{k}": None for k in ("q1", "q2", "q3", "q4", "q5", "q6", "q6b")
    }
    data.update({f"safety-screen-{k}": v for k, v in answers.items()})
    return data


def save(note: CrisisSession, user: User | None = None, **overrides: Any) -> CrisisSession:
    """Autosave the whole note with these field overrides (HTML names: "safety-screen-q1")."""
    note = reload(note)
    return note_autosave(
        note=note,
        user=user or note.author,
        base_version=note.version,
        data=form_data(note, **overrides),
    )


def codes(note: CrisisSession) -> set[str]:
    note = reload(note)
    return {problem.code for rule in RULES for problem in rule(note)}


def add_task(note: CrisisSession, *, hours: float) -> FollowUpTask:
    note = reload(note)
    ended = note.ended_at or note.started_at
    return FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=note.author,
        due_at=ended + timedelta(hours=hours),
        method="call",
    )


def end(note: CrisisSession, minutes: int = 30) -> CrisisSession:
    # A session cannot end in the future: a note started just now ends now.
    ended_at = min(note.started_at + timedelta(minutes=minutes), timezone.now())
    ended = timezone.localtime(ended_at).strftime("%Y-%m-%dT%H:%M")
    return save(note, **{"header-ended_at": ended})
