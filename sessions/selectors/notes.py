"""Reads of session notes, scoped: same clinic; drafts only to their author; notes awaiting
co-sign to their author and the clinic's supervisors; signed notes to anyone with a role in the
clinic. Anything else is a 404 (we do not confirm that a hidden note exists)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.db import PLAN_JOINS_AS_WRITTEN
from crisisnotes.prepared import PreparedRead, Statement, read_ahead, with_rows
from sessions import registry
from sessions.models import Addendum, CrisisSession, QuickNote
from sessions.models.notes import NoteHandoff, NoteStatus, ProcessNote
from sessions.policies import READ_ROLES, open_note_q


def notes_visible_to(*, user: User) -> QuerySet[CrisisSession]:
    require_role(user, *READ_ROLES)
    return CrisisSession.objects.filter(open_note_q(user=user))


def section_relations() -> list[str]:
    """select_related() of every registered section: one query loads a note and its stages."""
    return [rel for section in registry.sections() for rel in section.select_related()]


# The order the note's quick notes are shown in.
QUICK_NOTE_ORDER = ("created_at", "id")


def _with_page_relations(notes: QuerySet[CrisisSession]) -> QuerySet[CrisisSession]:
    """Everything the note page shows of the note's row and its stages' in one read, however
    long it grows. The quick notes are read beside it (`_page_quick_notes`, attached as
    `note.quick_notes.all()`). Not the addenda: only a signed note has any, and its page reads
    them (`note_addenda`)."""
    return notes.select_related(
        "clinic", "client", "author", "signed_by", "cosigned_by", *section_relations()
    )


def note_addenda(*, note: CrisisSession) -> list[Addendum]:
    """The addenda of a note fetched with `note_get_for_view`, oldest first."""
    return list(note.addenda.order_by("created_at", "id"))


def _stand_in(*, user_id: int, clinic_id: int, roles: tuple[bool, bool, bool]) -> User:
    """A user with the ids and roles the visibility rules read, for compiling a read once."""
    counselor, supervisor, admin = roles
    return User(
        pk=user_id,
        clinic_id=clinic_id,
        is_active=True,
        is_counselor=counselor,
        is_supervisor=supervisor,
        is_clinic_admin=admin,
    )


def _page_shape(**arguments: object) -> tuple[object, ...]:
    # The roles decide open_note_q's SQL; the registered sections decide the joins.
    return (arguments["roles"], arguments["own"], tuple(section_relations()))


def _page_notes(
    *, note_id: int, user_id: int, clinic_id: int, roles: tuple[bool, bool, bool], own: bool
) -> QuerySet[CrisisSession]:
    """The note `note_id` if the page may show it to the user (`own`: one of their drafts)."""
    user = _stand_in(user_id=user_id, clinic_id=clinic_id, roles=roles)
    notes = (
        CrisisSession.objects.filter(clinic_id=clinic_id, author_id=user_id)
        if own
        else notes_visible_to(user=user)
    )
    return notes.filter(pk=note_id)


def _page_read(**arguments: Any) -> QuerySet[CrisisSession]:
    return _with_page_relations(_page_notes(**arguments)).order_by()


def _page_quick_notes(**arguments: Any) -> QuerySet[QuickNote]:
    """The quick notes of the note `_page_notes` finds (none if it finds none), in order."""
    return QuickNote.objects.filter(
        session__in=_page_notes(**arguments).order_by().values("pk")
    ).order_by(*QUICK_NOTE_ORDER)


# The note page's read, compiled once per process and shape (crisisnotes/prepared.py): its
# ~250 columns over 13 tables took longer to compile than to run. Its quick notes beside it.
_PAGE_IDS = ("note_id", "user_id", "clinic_id")
_PAGE_READ = PreparedRead(_page_read, ids=_PAGE_IDS, shape=_page_shape)
_PAGE_QUICK_NOTES = PreparedRead(_page_quick_notes, ids=_PAGE_IDS, shape=_page_shape)


def _attach_quick_notes(note: CrisisSession, quick_notes: list[QuickNote]) -> None:
    """`note.quick_notes.all()` holds `quick_notes`, as the prefetch would have left it."""
    for quick_note in quick_notes:
        quick_note.session = note
    note._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "quick_notes": with_rows(note.quick_notes.all(), quick_notes)
    }


def _get_for_page(*, user: User, note_id: int, own: bool) -> CrisisSession:
    """The note with everything the page shows: one of the notes `user` may open (`own`: one
    of their own drafts' clinic and author), else 404. That read joins 13 tables, each on a
    key of the one note row: outside a transaction it is sent with its quick notes' read
    after `PLAN_JOINS_AS_WRITTEN` in one round trip, their own implicit transaction, so it is
    planned in the written order (~0.6 ms of planning instead of ~3 ms; before, BEGIN, SET,
    the two reads and COMMIT were five round trips). Inside a caller's transaction the setting
    would outlive the read: the plain reads there."""
    assert user.clinic_id is not None
    arguments = {
        "note_id": note_id,
        "user_id": user.pk,
        "clinic_id": user.clinic_id,
        "roles": (user.is_counselor, user.is_supervisor, user.is_clinic_admin),
        "own": own,
    }
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        found = _PAGE_READ(**arguments)
        quick_notes = _PAGE_QUICK_NOTES(**arguments) if found else []
    else:
        statements = [
            PLAN_JOINS_AS_WRITTEN,
            _PAGE_READ.statement(**arguments),
            _PAGE_QUICK_NOTES.statement(**arguments),
        ]
        with read_ahead(statements):
            found = _PAGE_READ(**arguments)
            quick_notes = _PAGE_QUICK_NOTES(**arguments)
    if not found:
        raise Http404
    _attach_quick_notes(found[0], quick_notes)
    return found[0]


def note_get_for_view(*, user: User, note_id: int) -> CrisisSession:
    require_role(user, *READ_ROLES)
    return _get_for_page(user=user, note_id=note_id, own=False)


def note_get_visible(*, user: User, note_id: int) -> CrisisSession:
    """The note's own row, with the visibility of `note_get_for_view` (404 otherwise) and none of
    the page's relations: for writers that lock and re-read the note anyway (autosave)."""
    return get_object_or_404(notes_visible_to(user=user), pk=note_id)


def note_get_for_edit(*, user: User, note_id: int, page: bool = True) -> CrisisSession:
    """The author's own draft. Another clinic's or another author's draft: 404; the author's
    note that already left draft: 403 (it is read-only now). With page=False the row only,
    none of the page's relations: for the page's posts, whose services lock and re-read the
    note anyway (a read of every relation is a 13-table join, ~3 ms of planning alone). Its
    clinic and author are the user's, the rows the read filtered on: no query for them."""
    require_role(user, Role.COUNSELOR)
    if page:
        note = _get_for_page(user=user, note_id=note_id, own=True)
    else:
        own = CrisisSession.objects.filter(clinic=user.clinic, author=user)
        note = get_object_or_404(own, pk=note_id)
        assert user.clinic is not None
        note.clinic, note.author = user.clinic, user
    if not note.is_draft:
        raise PermissionDenied
    return note


def _last_signed(
    *, note_id: int, client_id: int, user_id: int, clinic_id: int, roles: tuple[bool, bool, bool]
) -> QuerySet[CrisisSession]:
    user = _stand_in(user_id=user_id, clinic_id=clinic_id, roles=roles)
    return (
        notes_visible_to(user=user)
        .filter(client_id=client_id, status=NoteStatus.SIGNED)
        .exclude(pk=note_id)
        .order_by("-started_at", "-id")
        .only("id", "started_at")[:1]
    )


_LAST_SIGNED = PreparedRead(
    _last_signed,
    ids=("note_id", "client_id", "user_id", "clinic_id"),
    shape=lambda **arguments: arguments["roles"],
)


def _last_signed_arguments(user: User, note: CrisisSession) -> dict[str, object]:
    require_role(user, *READ_ROLES)
    assert user.clinic_id is not None
    return {
        "note_id": note.pk,
        "client_id": note.client_id,
        "user_id": user.pk,
        "clinic_id": user.clinic_id,
        "roles": (user.is_counselor, user.is_supervisor, user.is_clinic_admin),
    }


def last_signed_session(*, user: User, note: CrisisSession) -> CrisisSession | None:
    """The client's most recent signed session before this one (the copy-forward source), as
    the note page names it: its id and start time only (copying reads the source itself).
    Compiled once (crisisnotes/prepared.py): the note page asks at every view."""
    found = _LAST_SIGNED(**_last_signed_arguments(user, note))
    return found[0] if found else None


_PROCESS_NOTE = PreparedRead(
    lambda *, note_id, user_id: ProcessNote.objects.filter(
        session_id=note_id, author_id=user_id
    ).order_by("pk")[:1],
    ids=("note_id", "user_id"),
)


def process_note_for_author(*, user: User, note: CrisisSession) -> ProcessNote | None:
    """The private process note of `note`, for its author only (anyone else: None)."""
    if note.author_id != user.pk:
        return None
    found = _PROCESS_NOTE(note_id=note.pk, user_id=user.pk)
    return found[0] if found else None


def _page_panels_ahead(*, user: User, note: CrisisSession) -> list[Statement]:
    """The statements of the reads both note pages make for their panels: the follow-up
    tasks, the review thread, the consult replies, the bell."""
    from crisisnotes.notifications.selectors import notification_unread_count_ahead
    from sessions.selectors.followups import followup_list_for_note_ahead
    from sessions.selectors.review import review_comment_list_ahead
    from sessions.selectors.supervision import consult_reply_list_ahead

    return [
        followup_list_for_note_ahead(user=user, note_id=note.pk),
        *review_comment_list_ahead(note=note),
        consult_reply_list_ahead(note=note),
        *notification_unread_count_ahead(user=user),
    ]


def note_readonly_page_ahead(*, user: User, note: CrisisSession) -> list[Statement]:
    """As `note_edit_page_ahead`, for a locked note's page: the process note, the handoffs,
    the sections' read-only reads and the panels'. (Its content hash's reads, `note_verify`,
    are the hash's own and stay as they are.)"""
    statements = []
    if note.author_id == user.pk:
        statements.append(_PROCESS_NOTE.statement(note_id=note.pk, user_id=user.pk))
    statements.append(_HANDOFFS.statement(note_id=note.pk))
    for section in registry.sections():
        statements += section.readonly_reads(note=note)
    return statements + _page_panels_ahead(user=user, note=note)


def note_edit_page_ahead(*, user: User, note: CrisisSession) -> list[Statement]:
    """The statements of the reads the draft's page makes after its note (the copy-forward
    source, the process note, the handoffs, the sections' edit reads, the follow-up panel's,
    the colleagues, the snippets, the review thread, the consult replies, the bell), each as
    its own selector sends it, to read ahead in one round trip (crisisnotes/prepared.py): each
    was a round trip of its own. Every selector still checks its reader when it is called."""
    from sessions.selectors.followups import (
        followup_answerable_ahead,
        followup_assignee_names_ahead,
    )
    from sessions.selectors.snippets import snippets_for_note_ahead

    statements = [_LAST_SIGNED.statement(**_last_signed_arguments(user, note))]
    if note.author_id == user.pk:
        statements.append(_PROCESS_NOTE.statement(note_id=note.pk, user_id=user.pk))
    statements.append(_HANDOFFS.statement(note_id=note.pk))
    # The header's "answers the task" list.
    statements.append(
        followup_answerable_ahead(client_id=note.client_id, task_id=note.answers_task_id)
    )
    for section in registry.sections():
        statements += section.edit_reads(note=note)
    statements += [
        followup_assignee_names_ahead(user=user),
        *snippets_for_note_ahead(user=user),
        *_page_panels_ahead(user=user, note=note),
    ]
    return statements


_HANDOFFS = PreparedRead(
    lambda *, note_id: NoteHandoff.objects.filter(session_id=note_id), ids=("note_id",)
)


def note_handoffs(*, note: CrisisSession) -> list[NoteHandoff]:
    """The handoffs of a note the caller may read, in the order they happened (compiled once:
    the draft's page reads them at every view)."""
    return _HANDOFFS(note_id=note.pk)
