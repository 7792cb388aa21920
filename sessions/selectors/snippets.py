"""Reads of the clinic's snippets, scoped to the user's clinic (another clinic's is a 404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import User
from crisisnotes.prepared import PreparedRead, Statement
from sessions.models import Snippet


def _clinic_snippets(*, clinic_id: int) -> QuerySet[Snippet]:
    return Snippet.objects.filter(clinic_id=clinic_id).order_by("shortcut")


# Compiled once (crisisnotes/prepared.py): the note page reads them at every view.
_CLINIC_SNIPPETS = PreparedRead(_clinic_snippets, ids=("clinic_id",))


def snippet_list(*, user: User) -> QuerySet[Snippet]:
    if user.clinic_id is None:  # no clinic, no snippets
        return Snippet.objects.none()
    return _clinic_snippets(clinic_id=user.clinic_id)


def snippet_get(*, user: User, snippet_id: int) -> Snippet:
    return get_object_or_404(snippet_list(user=user), pk=snippet_id)


def snippets_for_note(*, user: User) -> list[dict[str, str]]:
    """What the note page's snippet menu needs: shortcut and text, in shortcut order."""
    if user.clinic_id is None:
        return []
    snippets = _CLINIC_SNIPPETS(clinic_id=user.clinic_id)
    return [{"shortcut": s.shortcut, "text": s.text} for s in snippets]


def snippets_for_note_ahead(*, user: User) -> list[Statement]:
    """`snippets_for_note`'s statement (none without a clinic), to read ahead."""
    if user.clinic_id is None:
        return []
    return [_CLINIC_SNIPPETS.statement(clinic_id=user.clinic_id)]
