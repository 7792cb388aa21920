"""Access rules, one predicate per rule, each with its SQL twin.

A rule that decides whether one object may be opened (`can_...`) and the queryset filter that
lists the objects it allows (`..._q`) must never disagree: a list that shows a row the detail
page refuses, or hides one it allows, is a bug either way. tests/sessions/test_policies.py
proves each pair equal over every combination of the inputs the rules read (status × role ×
author × team × clinic × risk).

Selectors filter with the `_q` twins, services and views ask the predicates, and templates ask
through one tag, `{% allowed "<rule>" user note as x %}` (sessions/templatetags/policy_tags.py),
which looks the rule up in RULES. This module reads the user and the note only: it imports no
service and no selector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from django.db.models import Q

from crisisnotes.accounts.models import Role, User
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus, RiskLevel

READ_ROLES = (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
ADDENDUM_ROLES = (Role.COUNSELOR, Role.SUPERVISOR)
EXPORT_ROLES = (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)

NOTHING = Q(pk__in=[])


def _holds(user: User, roles: tuple[Role, ...]) -> bool:
    """An active user of a clinic with one of `roles` (crisisnotes.accounts.permissions)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.clinic_id is not None
        and any(user.has_role(role) for role in roles)
    )


# --- open a note (read it) -------------------------------------------------------------------


class NoteAccess(Protocol):
    """What can_open_note reads of a note: a model, or a row read as values (the client's
    timeline)."""

    @property
    def clinic_id(self) -> int: ...
    @property
    def author_id(self) -> int: ...
    @property
    def status(self) -> str: ...


def can_open_note(*, user: User, note: NoteAccess) -> bool:
    """Whether `user` may read `note` on its page: a member of its clinic with a role, and the
    note is signed, or theirs (a draft is its author's alone), or awaiting co-sign and the user
    is a supervisor. (A supervisor's read-only view of a draft in progress is its own rule,
    can_supervise_draft, on its own page.)"""
    if not _holds(user, READ_ROLES) or note.clinic_id != user.clinic_id:
        return False
    return (
        note.status == NoteStatus.SIGNED
        or note.author_id == user.pk
        or (note.status == NoteStatus.AWAITING_COSIGN and user.has_role(Role.SUPERVISOR))
    )


def open_note_q(*, user: User) -> Q:
    """The SQL twin of can_open_note."""
    if not _holds(user, READ_ROLES):
        return NOTHING
    visible = Q(status=NoteStatus.SIGNED) | Q(author_id=user.pk)
    if user.has_role(Role.SUPERVISOR):
        visible |= Q(status=NoteStatus.AWAITING_COSIGN)
    return Q(clinic_id=user.clinic_id) & visible


# --- add an addendum -------------------------------------------------------------------------


def can_add_addendum(*, user: User, note: CrisisSession) -> bool:
    """Whether `user` may append an addendum to `note`: the note left draft (a draft is simply
    edited), it is of the user's clinic, and the user is its author (a counselor) or a
    supervisor."""
    if not _holds(user, ADDENDUM_ROLES) or note.clinic_id != user.clinic_id:
        return False
    if note.status == NoteStatus.DRAFT:
        return False
    return note.author_id == user.pk or user.has_role(Role.SUPERVISOR)


def add_addendum_q(*, user: User) -> Q:
    """The SQL twin of can_add_addendum."""
    if not _holds(user, ADDENDUM_ROLES):
        return NOTHING
    q = Q(clinic_id=user.clinic_id) & ~Q(status=NoteStatus.DRAFT)
    return q if user.has_role(Role.SUPERVISOR) else q & Q(author_id=user.pk)


# --- review: co-sign or return ---------------------------------------------------------------


def _is_active_supervisor(user: User) -> bool:
    return _holds(user, (Role.SUPERVISOR,))


def can_review(*, user: User, note: CrisisSession) -> bool:
    """Whether `user` is the reviewer of `note`, whatever its status: an active supervisor of the
    note's clinic who supervises the author's team and is not the author (nobody co-signs their
    own note). The review page opens a signed or awaiting note to them; a decision needs the
    note awaiting as well (can_cosign)."""
    if not _is_active_supervisor(user):
        return False
    if user.clinic_id != note.clinic_id or note.author_id == user.pk:
        return False
    team = note.author.team
    return team is not None and team.supervisor_id == user.pk


def review_q(*, user: User) -> Q:
    """The SQL twin of can_review."""
    if not _is_active_supervisor(user):
        return NOTHING
    return Q(clinic_id=user.clinic_id, author__team__supervisor_id=user.pk) & ~Q(author_id=user.pk)


def can_cosign(*, user: User, note: CrisisSession) -> bool:
    """Whether `user` may co-sign or return `note` now: it awaits co-sign and they review it."""
    return note.status == NoteStatus.AWAITING_COSIGN and can_review(user=user, note=note)


def cosign_q(*, user: User) -> Q:
    """The SQL twin of can_cosign: the user's review queue."""
    return review_q(user=user) & Q(status=NoteStatus.AWAITING_COSIGN)


# --- export a record -------------------------------------------------------------------------


def can_export_note(*, user: User, note: CrisisSession) -> bool:
    """Whether `user` may export `note` (PDF, FHIR): a signed note of their clinic, and any role
    there. Drafts and notes awaiting co-sign are never exported."""
    return (
        _holds(user, EXPORT_ROLES)
        and note.clinic_id == user.clinic_id
        and note.status == NoteStatus.SIGNED
    )


def export_note_q(*, user: User) -> Q:
    """The SQL twin of can_export_note."""
    if not _holds(user, EXPORT_ROLES):
        return NOTHING
    return Q(clinic_id=user.clinic_id, status=NoteStatus.SIGNED)


# --- supervise a draft in progress -----------------------------------------------------------

# The levels at which a contact in progress is open to its supervisor without being asked.
SUPERVISION_RISK_LEVELS = (RiskLevel.MODERATE, RiskLevel.HIGH)


def can_supervise_draft(*, user: User, note: CrisisSession) -> bool:
    """Whether `user` may read `note` while its contact is in progress (read-only; writing a draft
    stays its author's alone). All of:

    - the note is a draft, of the user's clinic, written by someone else;
    - the user is an active supervisor and supervises the author's team;
    - the contact needs them: the screen's or the clinician's risk is moderate or high, or the
      imminent flag is set, or the author asked for a consult ("Notify supervisor").

    Either risk counts (not only the governing one): a clinician level set below the screen's is
    exactly the contact a supervisor should be able to look at."""
    if note.status != NoteStatus.DRAFT or not can_review(user=user, note=note):
        return False
    return (
        note.screen_risk in SUPERVISION_RISK_LEVELS
        or note.clinician_risk in SUPERVISION_RISK_LEVELS
        or note.imminent
        or note.consult_requested_at is not None
    )


def supervise_draft_q(*, user: User) -> Q:
    """The SQL twin of can_supervise_draft: CrisisSession rows `user` may read in progress."""
    return (
        review_q(user=user)
        & Q(status=NoteStatus.DRAFT)
        & (
            Q(screen_risk__in=SUPERVISION_RISK_LEVELS)
            | Q(clinician_risk__in=SUPERVISION_RISK_LEVELS)
            | Q(imminent=True)
            | Q(consult_requested_at__isnull=False)
        )
    )


# --- one table, for the template tag and the parity test -------------------------------------


class Rule(NamedTuple):
    allows: Callable[..., bool]  # (*, user, note) -> bool
    q: Callable[..., Q]  # (*, user) -> Q


RULES: dict[str, Rule] = {
    "open": Rule(can_open_note, open_note_q),
    "addendum": Rule(can_add_addendum, add_addendum_q),
    "review": Rule(can_review, review_q),
    "cosign": Rule(can_cosign, cosign_q),
    "export": Rule(can_export_note, export_note_q),
    "supervise_draft": Rule(can_supervise_draft, supervise_draft_q),
}
