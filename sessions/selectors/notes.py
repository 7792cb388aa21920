"""Reads of session notes, scoped: same clinic; drafts only to their author; notes awaiting
co-sign to their author and the clinic's supervisors; signed notes to anyone with a role in the
clinic. Anything else is a 404 (we do not confirm that a hidden note exists)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.db import plan_joins_as_written
from crisisnotes.prepared import PreparedRead
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


def _page_read(
    *, note_id: int, user_id: int, clinic_id: int, roles: tuple[bool, bool, bool], own: bool
) -> QuerySet[CrisisSession]:
    user = _stand_in(user_id=user_id, clinic_id=clinic_id, roles=roles)
    notes = (
        CrisisSession.objects.filter(clinic_id=clinic_id, author_id=user_id)
        if own
        else notes_visible_to(user=user)
    )
    return _with_page_relations(notes).filter(pk=note_id).order_by()


# The note page's read, compiled once per process and shape (crisisnotes/prepared.py): its
# ~250 columns over 13 tables took longer to compile than to run.
_PAGE_READ = PreparedRead(_page_read, ids=("note_id", "user_id", "clinic_id"), shape=_page_shape)


def _get_for_page(*, user: User, note_id: int, own: bool) -> CrisisSession:
    """The note with everything the page shows: one of the notes `user` may open (`own`: one
    of their own drafts' clinic and author), else 404. That read joins 13 tables, each on a
    key of the one note row: outside a transaction it runs in one of its own, planned in the
    written order (`plan_joins_as_written`: ~0.6 ms of planning instead of ~3 ms). Inside a
    caller's transaction the setting would outlive the read: the plain read there."""
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
    else:
        with transaction.atomic():
            plan_joins_as_written()
            found = _PAGE_READ(**arguments)
    if not found:
        raise Http404
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
    note anyway (a read of every relation is a 13-table join, ~3 ms of planning alone)."""
    require_role(user, Role.COUNSELOR)
    if page:
        note = _get_for_page(user=user, note_id=note_id, own=True)
    else:
        own = CrisisSession.objects.filter(clinic=user.clinic, author=user)
        note = get_object_or_404(own, pk=note_id)
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


def last_signed_session(*, user: User, note: CrisisSession) -> CrisisSession | None:
    """The client's most recent signed session before this one (the copy-forward source), as
    the note page names it: its id and start time only (copying reads the source itself).
    Compiled once (crisisnotes/prepared.py): the note page asks at every view."""
    require_role(user, *READ_ROLES)
    assert user.clinic_id is not None
    found = _LAST_SIGNED(
        note_id=note.pk,
        client_id=note.client_id,
        user_id=user.pk,
        clinic_id=user.clinic_id,
        roles=(user.is_counselor, user.is_supervisor, user.is_clinic_admin),
    )
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


_HANDOFFS = PreparedRead(
    lambda *, note_id: NoteHandoff.objects.filter(session_id=note_id), ids=("note_id",)
)


def note_handoffs(*, note: CrisisSession) -> list[NoteHandoff]:
    """The handoffs of a note the caller may read, in the order they happened (compiled once:
    the draft's page reads them at every view)."""
    return _HANDOFFS(note_id=note.pk)
