"""Reads of session notes, scoped: same clinic; drafts only to their author; notes awaiting
co-sign to their author and the clinic's supervisors; signed notes to anyone with a role in the
clinic. Anything else is a 404 (we do not confirm that a hidden note exists)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.db import plan_joins_as_written
from sessions import registry
from sessions.models import Addendum, CrisisSession, QuickNote
from sessions.models.notes import NoteStatus, ProcessNote
from sessions.policies import READ_ROLES, open_note_q


def notes_visible_to(*, user: User) -> QuerySet[CrisisSession]:
    require_role(user, *READ_ROLES)
    return CrisisSession.objects.filter(open_note_q(user=user))


def section_relations() -> list[str]:
    """select_related() of every registered section: one query loads a note and its stages."""
    return [rel for section in registry.sections() for rel in section.select_related()]


def _with_page_relations(notes: QuerySet[CrisisSession]) -> QuerySet[CrisisSession]:
    """Everything the note page shows, in a fixed number of queries however long it grows.
    Not the addenda: only a signed note has any, and its page reads them (`note_addenda`)."""
    return notes.select_related(
        "clinic", "client", "author", "signed_by", "cosigned_by", *section_relations()
    ).prefetch_related(
        Prefetch("quick_notes", queryset=QuickNote.objects.order_by("created_at", "id")),
    )


def note_addenda(*, note: CrisisSession) -> list[Addendum]:
    """The addenda of a note fetched with `note_get_for_view`, oldest first."""
    return list(note.addenda.order_by("created_at", "id"))


def _get_for_page(notes: QuerySet[CrisisSession], note_id: int) -> CrisisSession:
    """The note with everything the page shows (404 if `notes` does not hold it). That read
    joins 13 tables, each on a key of the one note row: outside a transaction it runs in one of
    its own, planned in the written order (`plan_joins_as_written`: ~0.6 ms of planning instead
    of ~3 ms). Inside a caller's transaction the setting would outlive the read: the plain read
    there."""
    page = _with_page_relations(notes)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return get_object_or_404(page, pk=note_id)
    with transaction.atomic():
        plan_joins_as_written()
        return get_object_or_404(page, pk=note_id)


def note_get_for_view(*, user: User, note_id: int) -> CrisisSession:
    return _get_for_page(notes_visible_to(user=user), note_id)


def note_get_visible(*, user: User, note_id: int) -> CrisisSession:
    """The note's own row, with the visibility of `note_get_for_view` (404 otherwise) and none of
    the page's relations: for writers that lock and re-read the note anyway (autosave)."""
    return get_object_or_404(notes_visible_to(user=user), pk=note_id)


def note_get_for_edit(*, user: User, note_id: int, page: bool = True) -> CrisisSession:
    """The author's own draft. Another clinic's or another author's draft: 404; the author's
    note that already left draft: 403 (it is read-only now). With page=False the row only,
    none of the page's relations: for the page's posts, whose services lock and re-read the
    note anyway (a read of every relation is a 13-table join, ~3 ms of planning alone)."""
    require_role(user, Role.COUNSELOR)
    own = CrisisSession.objects.filter(clinic=user.clinic, author=user)
    note = _get_for_page(own, note_id) if page else get_object_or_404(own, pk=note_id)
    if not note.is_draft:
        raise PermissionDenied
    return note


def last_signed_session(*, user: User, note: CrisisSession) -> CrisisSession | None:
    """The client's most recent signed session before this one (the copy-forward source), as
    the note page names it: its id and start time only (copying reads the source itself)."""
    return (
        notes_visible_to(user=user)
        .filter(client_id=note.client_id, status=NoteStatus.SIGNED)
        .exclude(pk=note.pk)
        .order_by("-started_at", "-id")
        .only("id", "started_at")
        .first()
    )


def process_note_for_author(*, user: User, note: CrisisSession) -> ProcessNote | None:
    """The private process note of `note`, for its author only (anyone else: None)."""
    if note.author_id != user.pk:
        return None
    return ProcessNote.objects.filter(session=note, author=user).first()
