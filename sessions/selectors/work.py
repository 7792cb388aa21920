"""Reads for the counselor's and supervisor's home pages, scoped to the reader."""

from __future__ import annotations

from datetime import UTC, datetime
from operator import attrgetter
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Subquery

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.choices import choice_label
from crisisnotes.http import bounded_rows
from sessions.models import Client, CrisisSession, FollowUpTask, ReviewComment
from sessions.models.notes import NoteStatus

_NEVER = datetime.min.replace(tzinfo=UTC)


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
    # True when a supervisor sent the draft back with comments. A draft only has review
    # comments after a return (comments are written by note_return alone and the note goes
    # back for co-signature when signed again), so one EXISTS tells them apart.
    returned: bool  # always False for a note waiting

    def get_modality_display(self) -> str:
        return str(choice_label(CrisisSession._meta.get_field("modality"), self.modality))


class MyNotes(NamedTuple):
    drafts: list[NoteRow]  # returned ones first, then newest started first, then newest made
    awaiting: list[NoteRow]  # the longest wait first: signed first, then by id


def my_note_rows(*, user: User) -> MyNotes:
    """The user's own open drafts (drafts are visible to their author only) and their notes
    signed and waiting for a supervisor's co-signature, in one query, each list in its order.

    One query, not one per list: each of the two cost its planning (~1.2 ms on a session table
    of 15 indexes) more than its execution. The client's alias is a subquery per row, not a
    join: with ~80 notes estimated the planner hashed the whole client table (10,000 rows,
    2 ms) to join 61 of them (bench/README.md)."""
    require_role(user, Role.COUNSELOR)
    alias = Client.objects.filter(pk=OuterRef("client_id")).values("alias")
    notes = (
        CrisisSession.objects.filter(
            clinic=user.clinic,
            author=user,
            status__in=[NoteStatus.DRAFT, NoteStatus.AWAITING_COSIGN],
        )
        .annotate(
            returned=Exists(ReviewComment.objects.filter(session=OuterRef("pk"))),
            client_alias=Subquery(alias),
        )
        .order_by()
        .values_list(
            "status",
            "pk",
            "client_alias",
            "modality",
            "started_at",
            "signed_at",
            "cosign_required_reason",
            "returned",
        )
    )
    drafts: list[NoteRow] = []
    awaiting: list[NoteRow] = []
    for status, pk, alias, modality, started_at, signed_at, reason, returned in notes:
        draft = status == NoteStatus.DRAFT
        row = NoteRow(pk, alias, modality, started_at, signed_at, reason, draft and returned)
        (drafts if draft else awaiting).append(row)
    # Returned first, then newest started first; drafts started in the same minute (a
    # session started from a search is stamped to the minute) newest made first, where the two
    # queries before left them in whatever order the sort met them.
    drafts.sort(key=attrgetter("returned", "started_at", "pk"), reverse=True)
    # ORDER BY signed_at, id (PostgreSQL puts a missing signed_at last).
    awaiting.sort(key=lambda row: (row.signed_at is None, row.signed_at or _NEVER, row.pk))
    return MyNotes(drafts=drafts, awaiting=awaiting)


class FollowUpRow(NamedTuple):
    """What a follow-up's row of "my work" shows, read as values (a task and a client instance
    each for up to all of a counselor's open follow-ups, ~300 with "Show all"). The attributes
    have the task's names (`client_alias` for `client.alias`)."""

    pk: int
    session_id: int
    client_alias: str
    due_at: datetime
    method: str
    purpose: str

    def get_method_display(self) -> str:
        return str(choice_label(FollowUpTask._meta.get_field("method"), self.method))


def followup_open_rows_for_assignee(
    *, user: User, limit: int, show_all: bool
) -> tuple[list[FollowUpRow], int]:
    """Open follow-up tasks assigned to the user, soonest due first, and how many there are:
    the first `limit` (all with `show_all`) as bounded_rows bounds a list page. The client's
    alias is a subquery per row, as in my_note_rows."""
    require_role(user, Role.COUNSELOR)
    alias = Client.objects.filter(pk=OuterRef("client_id")).values("alias")
    tasks = (
        FollowUpTask.objects.filter(clinic=user.clinic, assigned_to=user, closed_at__isnull=True)
        .annotate(client_alias=Subquery(alias))
        .order_by("due_at", "id")
        .values_list("pk", "session_id", "client_alias", "due_at", "method", "purpose")
    )
    rows, total = bounded_rows(tasks, limit=limit, show_all=show_all)
    return [FollowUpRow(*row) for row in rows], total


# The supervisor's queue lives with the rest of supervision: sessions.selectors.review.
