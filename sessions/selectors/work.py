"""Reads for the counselor's and supervisor's home pages, scoped to the reader."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db.models import Exists, OuterRef, QuerySet

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.choices import choice_label
from sessions.models import CrisisSession, FollowUpTask, ReviewComment
from sessions.models.notes import NoteStatus

# What a row of "my work" shows of a note (sessions/templatetags/work_tags.py), not its ~40
# columns and its client's ~20: the lists are unbounded (60 notes waiting was seen).
_NOTE_ROW_FIELDS = (
    "modality",
    "started_at",
    "signed_at",
    "cosign_required_reason",
    "client__alias",
)


def draft_list_for_author(*, user: User) -> QuerySet[CrisisSession]:
    """The user's own open drafts (drafts are visible to their author only), each with
    `returned`: True when a supervisor sent it back with comments. A draft only has review
    comments after a return (comments are written by note_return alone and the note goes back
    for co-signature when signed again), so one EXISTS in the same query tells them apart."""
    require_role(user, Role.COUNSELOR)
    return (
        CrisisSession.objects.filter(clinic=user.clinic, author=user, status=NoteStatus.DRAFT)
        .annotate(returned=Exists(ReviewComment.objects.filter(session=OuterRef("pk"))))
        .select_related("client")
        .only(*_NOTE_ROW_FIELDS)
        .order_by("-returned", "-started_at")
    )


def awaiting_cosign_list_for_author(*, user: User) -> QuerySet[CrisisSession]:
    """The user's own notes signed and waiting for a supervisor's co-signature, oldest first
    (the longest wait on top)."""
    require_role(user, Role.COUNSELOR)
    return (
        CrisisSession.objects.filter(
            clinic=user.clinic, author=user, status=NoteStatus.AWAITING_COSIGN
        )
        .select_related("client")
        .only(*_NOTE_ROW_FIELDS)
        .order_by("signed_at", "id")
    )


def followup_open_list_for_assignee(*, user: User) -> QuerySet[FollowUpTask]:
    """Open follow-up tasks assigned to the user, soonest due first, with what a row of "my
    work" shows (the note it came from, the client's alias, method, due time and purpose)."""
    require_role(user, Role.COUNSELOR)
    return (
        FollowUpTask.objects.filter(clinic=user.clinic, assigned_to=user, closed_at__isnull=True)
        .select_related("client")
        .only("session_id", "due_at", "method", "purpose", "client__alias")
        .order_by("due_at", "id")
    )


class NoteRow(NamedTuple):
    """What a row of "my work" shows of a note, read as values: the page lists every open draft
    and every note waiting (~250 for a busy counselor), and each built as a note and a client
    instance was a third of the page's time (bench/README.md, issue 15). The attributes have
    the note's names (`client_alias` for `client.alias`)."""

    pk: int
    client_alias: str
    modality: str
    started_at: datetime
    signed_at: datetime | None
    cosign_required_reason: str
    returned: bool  # drafts only (draft_list_for_author's annotation); False for the others

    def get_modality_display(self) -> str:
        return str(choice_label(CrisisSession._meta.get_field("modality"), self.modality))


def note_rows(notes: QuerySet[CrisisSession]) -> list[NoteRow]:
    """The rows of `notes` (draft_list_for_author or awaiting_cosign_list_for_author), in their
    order, in one query."""
    fields = ("pk", "client__alias", "modality", "started_at", "signed_at")
    if "returned" in notes.query.annotations:
        rows = notes.values_list(*fields, "cosign_required_reason", "returned")
        return [NoteRow(*row) for row in rows]
    # Only the drafts' query has the annotation.
    return [
        NoteRow(pk, alias, modality, started_at, signed_at, reason, False)
        for pk, alias, modality, started_at, signed_at, reason in notes.values_list(
            *fields, "cosign_required_reason"
        )
    ]


# The supervisor's queue lives with the rest of supervision: sessions.selectors.review.
