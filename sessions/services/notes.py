"""Writes of the session note while it is a draft: create, autosave, end, quick notes, copy
forward. Signing lives in signing.py, addenda in addenda.py.

Invariants kept here: only the author writes a draft; a draft is written only at the version the
writer last saw (optimistic lock, `version`), all of it or nothing; a note that left draft is never
written (the database triggers back this up); every write is audited in its transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.prepared import PreparedRead
from sessions import registry
from sessions.exceptions import NoteConflict, NoteError, NoteInvalid, NoteLocked
from sessions.forms.notes import NoteHeaderForm
from sessions.models import Client, CrisisSession, NoteHandoff, QuickNote
from sessions.models.notes import NoteStatus, ProcessNote
from sessions.sections import HEADER
from sessions.selectors.notes import section_relations

# Every header field the page posts (contact type and its details included).
HEADER_FIELDS: list[str] = list(NoteHeaderForm.Meta.fields)


def _require_author(note: CrisisSession, user: User) -> None:
    require_role(user, Role.COUNSELOR)
    if note.author_id != user.pk or note.clinic_id != user.clinic_id:
        raise PermissionDenied("only the author edits a draft")


def note_lock(
    *,
    note_id: int,
    related: tuple[str, ...] = (),
    sections: Collection[str] | None = None,
    author: User | None = None,
) -> CrisisSession:
    """Take the note's row lock (FOR UPDATE), then load the note and its stage rows.

    Two steps on purpose. A locking SELECT that joins the stage rows waits for the lock and then
    re-reads only the locked row: PostgreSQL hands back the joined stage rows as they were when
    the statement started, before the transaction holding the lock (an autosave) committed. Rules
    and hashes run on those rows would check text that is no longer stored. Loading after the
    lock is granted (a new statement, a new snapshot under READ COMMITTED) reads exactly what is
    stored, and nothing can change it until this transaction ends: every writer of a note's
    content takes this lock first, and a row inserted with a foreign key to the note waits for it
    too (the key check's FOR KEY SHARE conflicts with FOR UPDATE — so this must stay FOR UPDATE,
    not FOR NO KEY UPDATE).

    `sections` (keys): join only those sections' rows (a partial autosave's); any other stage
    row is read when first used. Each joined table costs planning time: the ten-table read of
    every stage is planned in ~2 ms, a three-table one in ~0.4 ms (bench/README.md).

    `author`: lock the note only if it is that user's, in their clinic (PermissionDenied
    otherwise, nothing locked), the check made on the locked row itself; the note's author and
    clinic are then `author` and its clinic, not joined again."""
    if not _lock_row(note_id=note_id, author=author):
        if author is not None:
            raise PermissionDenied("only the author edits a draft")
        raise CrisisSession.DoesNotExist(f"no note {note_id}")
    (locked,) = _LOCKED_READ(
        note_id=note_id,
        related=tuple(related),
        sections=None if sections is None else frozenset(sections),
        with_author=author is None,
    )
    if author is None:
        return locked
    # The very rows: the lock was granted on author_id and clinic_id as filtered, and holding it
    # nobody else changes them.
    clinic = author.clinic
    assert clinic is not None  # the row matched clinic_id = author.clinic_id
    locked.author, locked.clinic = author, clinic
    return locked


def _locked_read(
    *,
    note_id: int,
    related: tuple[str, ...],
    sections: frozenset[str] | None,
    with_author: bool,
) -> QuerySet[CrisisSession]:
    """The locked note with its stage rows (`sections`' only, when given) and `related`; its
    author and clinic too unless the caller has them."""
    relations = (
        section_relations()
        if sections is None
        else [
            rel
            for section in registry.sections()
            if section.key in sections
            for rel in section.select_related()
        ]
    )
    mine = ("author", "clinic") if with_author else ()
    return CrisisSession.objects.select_related(*mine, *related, *relations).filter(pk=note_id)


def _locked_shape(**arguments: Any) -> Hashable:
    # The joins: what the caller asked for and the registered sections.
    return (
        arguments["related"],
        arguments["sections"],
        arguments["with_author"],
        tuple(section_relations()),
    )


# Compiled once per process and shape (crisisnotes/prepared.py): every autosave and sign read
# the note and its stage rows through the ORM's compiler, a join of up to 13 tables. Never from
# rows read ahead: it is read once the lock is held.
_LOCKED_READ = PreparedRead(_locked_read, ids=("note_id",), shape=_locked_shape, ahead=False)


def _lock_row(*, note_id: int, author: User | None) -> bool:
    """SELECT … FOR UPDATE of the note's row (of `author`'s note only, when given): what
    `select_for_update().filter(…).values_list("pk")` sends, without the ~0.4 ms the ORM spends
    composing it on every write of a note (bench/README.md). True if the row was locked."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("a row lock outside a transaction would be let go at once")
    table = connection.ops.quote_name(CrisisSession._meta.db_table)
    sql = f"SELECT 1 FROM {table} WHERE id = %s"  # noqa: S608 (the model's table; values are parameters)
    params: list[int | None] = [note_id]
    if author is not None:
        sql += " AND author_id = %s AND clinic_id = %s"
        params += [author.pk, author.clinic_id]
    if connection.features.has_select_for_update:  # not SQLite's: as select_for_update()
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _lock_draft(
    note: CrisisSession | int,
    base_version: int | None,
    sections: Collection[str] | None = None,
    *,
    user: User | None = None,
) -> CrisisSession:
    """Lock the draft (see `note_lock`) and check it may be written. Two saves of one draft (two
    tabs, a double-click) serialise on the row lock; the second then sees the first's version
    bump and is refused as a conflict instead of overwriting it. A note that left draft is
    refused with NoteLocked. Given an id (not a note read before), `user` must be the note's
    author: the lock checks it (PermissionDenied)."""
    if isinstance(note, CrisisSession):
        locked = note_lock(note_id=note.pk, sections=sections)
    else:
        assert user is not None
        locked = note_lock(note_id=note, sections=sections, author=user)
    if not locked.is_draft:
        raise NoteLocked()
    if base_version is not None and base_version != locked.version:
        raise NoteConflict(base_version=base_version, current_version=locked.version)
    return locked


def note_forms(
    *,
    note: CrisisSession,
    data: Mapping[str, Any] | None = None,
    stages: Collection[str] | None = None,
) -> dict[str, list[forms.BaseForm]]:
    """The header form and every section's forms, bound to `data` when given; with `stages`
    (keys: "header" and section keys) only those stages' forms."""
    result: dict[str, list[forms.BaseForm]] = {}
    if stages is None or HEADER in stages:
        result[HEADER] = [NoteHeaderForm(data=data, instance=note, prefix=HEADER)]
    for section in registry.sections():
        if stages is None or section.key in stages:
            result[section.key] = section.get_forms(note=note, data=data)
    return result


def stage_keys() -> list[str]:
    """The keys a partial save may name: the header, then every section in page order."""
    return [HEADER, *(section.key for section in registry.sections())]


def note_form_data(*, note: CrisisSession) -> dict[str, Any]:
    """What the note page would post for the note as stored now (every field of the header and
    of every section, by HTML name), for code that writes through `note_autosave` the way the
    page does: the demo seed, and tests."""
    data: dict[str, Any] = {}
    for section_forms in note_forms(note=note).values():
        for form in section_forms:
            for name, form_field in form.fields.items():
                bound = form[name]
                value = bound.value()
                if isinstance(form_field.widget, forms.CheckboxInput):
                    if value:
                        data[bound.html_name] = "on"
                elif isinstance(value, list | tuple):
                    data[bound.html_name] = [str(v) for v in value]
                elif value is None:
                    data[bound.html_name] = ""
                elif isinstance(form_field.widget, forms.DateTimeInput):
                    data[bound.html_name] = form_field.widget.format_value(value) or ""
                else:
                    data[bound.html_name] = str(value)
    return data


def _bump(note: CrisisSession, *, extra_fields: list[str] | None = None) -> None:
    note.version += 1
    note.save(update_fields=[*(extra_fields or []), "version", "updated_at"])


@transaction.atomic
def note_create(
    *,
    author: User,
    client: Client,
    modality: str,
    started_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> CrisisSession:
    """Start a session: a draft note of `author` for `client` (same clinic), with one row per
    registered section, the clock started now unless given. Audited (CREATE)."""
    require_role(author, Role.COUNSELOR)
    if client.clinic_id != author.clinic_id:
        raise PermissionDenied("client of another clinic")
    started = started_at or timezone.now().replace(second=0, microsecond=0)
    note = CrisisSession(
        clinic_id=client.clinic_id,
        client=client,
        author=author,
        modality=modality,
        started_at=started,
    )
    note.full_clean(exclude=["clinic", "client", "author"])
    note.save()
    for section in registry.sections():
        section.create_rows(note=note)
    audit_record(
        action=Action.CREATE,
        actor=author,
        request=request,
        obj=note,
        clinic=author.clinic,
        summary=f"session started with client {client.pk}",
    )
    return note


@transaction.atomic
def note_autosave(
    *,
    note: CrisisSession | int,
    user: User,
    base_version: int,
    data: Mapping[str, Any],
    request: HttpRequest | None = None,
    stages: Collection[str] | None = None,
) -> CrisisSession:
    """Save the whole posted draft (header and every section) or nothing.

    With `stages` (note.js's autosave: only the stages changed since its last confirmed save)
    only those stages' forms are built, validated and saved, from all of their fields as
    posted; every other stage stays exactly as stored, whatever `data` holds or lacks for it.
    Unknown keys are ignored. The version check is the same either way: a partial save at an
    old version is a conflict too.

    Refused unless `user` is the author and the note is a draft; refused with NoteConflict when
    `base_version` is not the stored version (nothing saved); refused with NoteInvalid carrying
    the bound forms when any field is invalid (nothing saved). When anything changed the version
    is bumped and an UPDATE audited. Returns the saved note (a fresh instance).

    `note` may be the note's id (note.js's autosave): the lock then checks the author on the
    locked row (PermissionDenied), and no read of the note before it is needed."""
    if isinstance(note, CrisisSession):
        _require_author(note, user)
    else:
        require_role(user, Role.COUNSELOR)
    locked = _lock_draft(note, base_version, sections=stages, user=user)
    bound = note_forms(note=locked, data=data, stages=stages)
    if not all(form.is_valid() for section_forms in bound.values() for form in section_forms):
        raise NoteInvalid(bound)
    changed = [HEADER] if HEADER in bound and bound[HEADER][0].has_changed() else []
    for section in registry.sections():
        if section.key in bound and section.save(note=locked, forms=bound[section.key]):
            changed.append(section.key)
    if changed:
        # The header's fields only when its form was bound (and wrote into `locked`): otherwise
        # they are exactly as read under the lock, and writing them back changes nothing.
        _bump(locked, extra_fields=HEADER_FIELDS if HEADER in bound else [])
        audit_record(
            action=Action.UPDATE,
            actor=user,
            request=request,
            obj=locked,
            clinic=locked.clinic,
            summary=f"draft saved (version {locked.version}): {', '.join(changed)}",
        )
    return locked


@transaction.atomic
def note_end(
    *, note: CrisisSession, user: User, base_version: int, request: HttpRequest | None = None
) -> CrisisSession:
    """Stop the clock: set the end time to now (kept if already set). Bumps the version."""
    _require_author(note, user)
    locked = _lock_draft(note, base_version, sections=())  # the note's row is all it needs
    if locked.ended_at is None:
        locked.ended_at = max(timezone.now(), locked.started_at)
        _bump(locked, extra_fields=["ended_at"])
        audit_record(
            action=Action.UPDATE,
            actor=user,
            request=request,
            obj=locked,
            clinic=locked.clinic,
            summary="session ended",
        )
    return locked


@transaction.atomic
def quick_note_add(
    *, note: CrisisSession, user: User, text: str, request: HttpRequest | None = None
) -> QuickNote:
    """Append a timestamped quick note to a draft. Quick notes are part of the record; the note
    row lock keeps one from slipping in while the note is being signed (after its hash)."""
    _require_author(note, user)
    locked = _lock_draft(note, None, sections=())  # the note's row is all it needs
    text = text.strip()
    if not text:
        raise NoteError(_("A quick note needs some text."))
    quick = QuickNote.objects.create(session=locked, text=text)
    audit_record(
        action=Action.CREATE,
        actor=user,
        request=request,
        obj=quick,
        clinic=locked.clinic,
        client=locked.client_id,
        summary=f"quick note on session {locked.pk}",
    )
    return quick


def _merge_text(current: str, copied: str) -> str:
    copied = copied.strip()
    if not copied or copied in current:
        return current
    return f"{current.rstrip()}\n{copied}" if current.strip() else copied


def _merge_list(current: list[Any], copied: list[Any]) -> list[Any]:
    return [*current, *(item for item in copied if item not in current)]


@transaction.atomic
def note_copy_forward(
    *, note: CrisisSession, user: User, base_version: int, request: HttpRequest | None = None
) -> tuple[CrisisSession, CrisisSession]:
    """Pull supports, triggers, resources given and referrals of the client's last signed
    session into this draft — only when the counselor asks (never silently). Text is appended
    (not replaced) and list items already present are not repeated. Returns (note, source)."""
    _require_author(note, user)
    locked = _lock_draft(note, base_version)
    source = (
        CrisisSession.objects.filter(
            client_id=locked.client_id, clinic_id=locked.clinic_id, status=NoteStatus.SIGNED
        )
        .exclude(pk=locked.pk)
        .select_related("rapport", "follow_up")
        .order_by("-started_at", "-id")
        .first()
    )
    if source is None:
        raise NoteError(_("This client has no earlier signed session to copy from."))
    follow_up, old_follow_up = locked.follow_up, source.follow_up
    follow_up.supports = _merge_text(follow_up.supports, old_follow_up.supports)
    follow_up.triggers = _merge_text(follow_up.triggers, old_follow_up.triggers)
    follow_up.referrals = _merge_list(follow_up.referrals, old_follow_up.referrals)
    follow_up.save()
    rapport = locked.rapport
    rapport.resources_given = _merge_list(rapport.resources_given, source.rapport.resources_given)
    rapport.save()
    _bump(locked)
    audit_record(
        action=Action.UPDATE,
        actor=user,
        request=request,
        obj=locked,
        clinic=locked.clinic,
        summary=f"copied forward from session {source.pk}",
    )
    return locked, source


@transaction.atomic
def process_note_save(
    *, note: CrisisSession, user: User, text: str, request: HttpRequest | None = None
) -> ProcessNote:
    """Save the author's private process note on their session (CLINICAL.md §10). Only the
    note's author may write or read it; it is not part of the record, so it stays editable after
    signing and is never hashed, exported or required. Audited without its text."""
    require_role(user, Role.COUNSELOR)
    if note.author_id != user.pk or note.clinic_id != user.clinic_id:
        raise PermissionDenied("process notes are private to the session's author")
    process, created = ProcessNote.objects.select_for_update().get_or_create(
        session=note, defaults={"author": user, "text": text}
    )
    if process.author_id != user.pk:
        # The session was handed off: the previous author's private note stays theirs alone.
        raise PermissionDenied("the previous author's process note on this session is private")
    if not created and process.text != text:
        process.text = text
        process.save(update_fields=["text", "updated_at"])
    audit_record(
        action=Action.CREATE if created else Action.UPDATE,
        actor=user,
        request=request,
        obj=process,
        clinic=user.clinic,
        client=note.client_id,
        summary=f"private process note on session {note.pk}",
    )
    return process


@transaction.atomic
def note_handoff(
    *, note: CrisisSession, user: User, to_user: User, request: HttpRequest | None = None
) -> NoteHandoff:
    """Shift handoff: the author hands their open draft to a colleague (an active counselor of
    the clinic, the supervisor included if they counsel), who becomes its author. Both names, as
    they are now, and the time stay on the record (an append-only row, part of the content
    hash); audited. The version is bumped, so a tab still open on the old author's page gets a
    conflict (and keeps its text) instead of saving over the new author's work."""
    _require_author(note, user)
    if (
        to_user.pk == user.pk
        or to_user.clinic_id != note.clinic_id
        or not to_user.is_active
        or not to_user.has_role(Role.COUNSELOR)
    ):
        raise NoteError(_("Hand the draft to another active counselor of this clinic."))
    locked = _lock_draft(note, None)
    handoff = NoteHandoff.objects.create(
        session=locked,
        from_user=user,
        from_name=user.display_name,
        to_user=to_user,
        to_name=to_user.display_name,
        handed_at=timezone.now(),
    )
    locked.author = to_user
    _bump(locked, extra_fields=["author"])
    audit_record(
        action=Action.UPDATE,
        actor=user,
        request=request,
        obj=locked,
        clinic=locked.clinic,
        summary=f"draft handed off from {handoff.from_name} to {handoff.to_name}",
    )
    return handoff
