"""Signing: every sign-time rule at once, then lock (or hand to a supervisor for co-signature).

Signed means immutable: after `note_sign` the note and its stage rows are frozen by database
triggers (migration 0002); corrections are addenda.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.db import plan_joins_as_written
from sessions import registry, sign_rules
from sessions.exceptions import NoteAlreadySigned, SignRefused
from sessions.hashing import note_content_hash
from sessions.models import Client, CrisisSession
from sessions.models.notes import NoteStatus
from sessions.registry import SignProblem
from sessions.sections import HEADER
from sessions.services.notes import _require_author, note_autosave, note_end, note_lock
from sessions.services.supervision import note_cosign_request_notify


def _stage_rank() -> dict[str, int]:
    """Where each section's problems go in the list: the stages in page order, except that the
    header comes right after the first stage. The first stage is Safety (when installed): its
    unmet rules are the high-risk ones, so the counselor reads them before anything else."""
    keys = [section.key for section in registry.sections()]
    ordered = [*keys[:1], HEADER, *keys[1:]]
    return {key: rank for rank, key in enumerate(ordered)}


def note_sign_problems(note: CrisisSession) -> list[SignProblem]:
    """Every unmet sign-time rule (the header's and every section's), grouped by stage in the
    order the counselor meets them (Safety, header, then the page's order); within a stage the
    stage's own rules come first, then those another section links into it, each in its order."""
    owned: list[tuple[bool, SignProblem]] = [
        (False, problem) for problem in sign_rules.header_problems(note)
    ]
    for section in registry.sections():
        owned.extend((p.section != section.key, p) for p in section.sign_problems(note))
    rank = _stage_rank()
    # sorted() is stable: rules keep their order within a stage.
    ordered = sorted(owned, key=lambda item: (rank.get(item[1].section, len(rank)), item[0]))
    return [problem for _foreign, problem in ordered]


def note_cosign_reasons(note: CrisisSession) -> list[str]:
    """Why this note, once signed, waits for a supervisor's co-signature (empty: it does not)."""
    return [
        *sign_rules.cosign_reasons(note),
        *(r for section in registry.sections() for r in section.cosign_reasons(note)),
    ]


@transaction.atomic
def note_sign(
    *, note: CrisisSession, user: User, request: HttpRequest | None = None
) -> CrisisSession:
    """Sign the author's draft: refuse with every unmet rule at once (SignRefused); otherwise
    copy the signer's name, credential and licence as they are today, store the content hash and
    the late-entry label, and lock the note — or, when any co-sign reason applies (trainee author,
    clinician level below the screen...), send it to "awaiting co-sign" with the reasons.

    Invariant: the rules and the hash run on exactly what is stored. The note row is locked FOR
    UPDATE first and the note, its stage rows and everything else hashed are read after the lock
    was granted (`note_lock`); every writer of a draft takes the same lock (autosave, quick
    notes, the safety records) or inserts a row referencing the note (its foreign-key check
    waits for this lock), so nothing changes between the check, the hash and the status change.
    A second sign of the same note (two tabs, a double click) waits for the first and is then
    refused with NoteAlreadySigned, changing nothing."""
    _require_author(note, user)
    # Which safety-plan version was in force is part of the hash, and a plan can be saved from
    # the client's page (not through this note): plan saves lock the client row, so take it
    # too, before the note — the order every writer of both uses. NO KEY: rows that merely
    # reference the client (a disclosure, a follow-up) need not wait for it.
    list(
        Client.objects.select_for_update(no_key=True)
        .filter(pk=note.client_id)
        .values_list("pk", flat=True)
    )
    # The locked read joins every stage row to the note; what follows reads single tables.
    plan_joins_as_written()
    locked = note_lock(note_id=note.pk)
    if not locked.is_draft:
        raise NoteAlreadySigned(signed_at=locked.signed_at, status=locked.status)
    problems = note_sign_problems(locked)
    if problems:
        raise SignRefused(problems)
    now = timezone.now()
    reasons = note_cosign_reasons(locked)
    locked.status = NoteStatus.AWAITING_COSIGN if reasons else NoteStatus.SIGNED
    locked.cosign_required_reason = "; ".join(reasons)[:300]
    locked.signed_by = user
    locked.signed_at = now
    locked.signer_name = user.display_name
    locked.signer_credential = user.credential
    locked.signer_licence = user.licence_number
    locked.content_hash = note_content_hash(locked)
    assert locked.ended_at is not None  # a sign rule requires it
    locked.late_entry = now - locked.ended_at > timedelta(hours=locked.clinic.late_entry_hours)
    locked.save()
    if reasons:
        note_cosign_request_notify(note=locked)
    audit_record(
        action=Action.SIGN,
        actor=user,
        request=request,
        obj=locked,
        clinic=locked.clinic,
        summary=(
            f"signed, awaiting co-sign ({locked.cosign_required_reason})"
            if reasons
            else "signed and locked"
        )[:300],
    )
    return locked


def note_end_and_sign(
    *, note: CrisisSession, user: User, request: HttpRequest | None = None
) -> CrisisSession:
    """ "End session and sign" as one action: stop the clock (kept if already stopped), then
    sign with every rule checked. The end is its own transaction: a refused sign (SignRefused)
    leaves the end time stored, so the page shows the time the rules were checked against.
    Raises what `note_end` and `note_sign` raise."""
    ended = note_end(note=note, user=user, base_version=note.version, request=request)
    return note_sign(note=ended, user=user, request=request)


def note_save_and_sign(
    *,
    note: CrisisSession,
    user: User,
    base_version: int,
    data: Mapping[str, Any],
    request: HttpRequest | None = None,
    end: bool = False,
    stages: Collection[str] | None = None,
) -> CrisisSession:
    """What the page's Sign button does: save the posted draft, then sign it, in one
    transaction holding the note's row lock throughout, so no autosave from another tab can
    slip in between what this page saved and what is checked and hashed. With `end` ("End
    session and sign"), the clock is stopped in between, under the same lock, when the page
    did not post an end time (`note_end`). With `stages` only those stages are saved (a partial
    save, as `note_autosave` makes it: the page's other stages are what the server holds at
    `base_version`); the rules and the hash still run on every stored row, read after the lock.

    Refusals: NoteConflict / NoteInvalid / NoteLocked from the save (nothing saved);
    NoteAlreadySigned when another request signed first (nothing saved). When only the sign
    rules refuse, the save is kept (committed) and SignRefused is raised after it, so the
    counselor's text is stored (and the end time, with `end`) and the page lists what is
    still missing."""
    refused: SignRefused | None = None
    with transaction.atomic():
        saved = note_autosave(
            note=note,
            user=user,
            base_version=base_version,
            data=data,
            request=request,
            stages=stages,
        )
        if end and saved.ended_at is None:
            saved = note_end(note=saved, user=user, base_version=saved.version, request=request)
        try:
            # A savepoint: a refused signature rolls back nothing but itself.
            with transaction.atomic():
                return note_sign(note=saved, user=user, request=request)
        except SignRefused as error:
            refused = error
    raise refused
