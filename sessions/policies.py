"""Access rules, one predicate per rule, each with its SQL twin.

A rule that decides whether one object may be opened (`can_...`) and the queryset filter that
lists the objects it allows (`..._q`) must never disagree: a list that shows a row the detail
page refuses, or hides one it allows, is a bug either way. tests/sessions/test_policies.py
proves each pair equal over every combination of the inputs the rule reads.
"""

from __future__ import annotations

from django.db.models import Q

from crisisnotes.accounts.models import Role, User
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus, RiskLevel

# The levels at which a contact in progress is open to its supervisor without being asked.
SUPERVISION_RISK_LEVELS = (RiskLevel.MODERATE, RiskLevel.HIGH)


def _is_active_supervisor(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.clinic_id is not None
        and user.has_role(Role.SUPERVISOR)
    )


def can_supervise_draft(*, user: User, note: CrisisSession) -> bool:
    """Whether `user` may read `note` while its contact is in progress (read-only; writing a draft
    stays its author's alone). All of:

    - the note is a draft, of the user's clinic, written by someone else;
    - the user is an active supervisor and supervises the author's team;
    - the contact needs them: the screen's or the clinician's risk is moderate or high, or the
      imminent flag is set, or the author asked for a consult ("Notify supervisor").

    Either risk counts (not only the governing one): a clinician level set below the screen's is
    exactly the contact a supervisor should be able to look at."""
    if not _is_active_supervisor(user):
        return False
    if note.status != NoteStatus.DRAFT or note.clinic_id != user.clinic_id:
        return False
    if note.author_id == user.pk:
        return False
    team = note.author.team
    if team is None or team.supervisor_id != user.pk:
        return False
    return (
        note.screen_risk in SUPERVISION_RISK_LEVELS
        or note.clinician_risk in SUPERVISION_RISK_LEVELS
        or note.imminent
        or note.consult_requested_at is not None
    )


def supervise_draft_q(*, user: User) -> Q:
    """The SQL twin of can_supervise_draft: CrisisSession rows `user` may read in progress."""
    if not _is_active_supervisor(user):
        return Q(pk__in=[])
    return (
        Q(
            status=NoteStatus.DRAFT,
            clinic_id=user.clinic_id,
            author__team__supervisor_id=user.pk,
        )
        & ~Q(author_id=user.pk)
        & (
            Q(screen_risk__in=SUPERVISION_RISK_LEVELS)
            | Q(clinician_risk__in=SUPERVISION_RISK_LEVELS)
            | Q(imminent=True)
            | Q(consult_requested_at__isnull=False)
        )
    )
