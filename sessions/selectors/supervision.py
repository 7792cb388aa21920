"""Reads for live supervision: the supervisor's board of contacts in progress, the draft a
supervisor may read while its contact goes on (sessions.policies decides which), and the consult
replies of a note. Scoped to the reader's clinic and the teams they supervise; a draft the rule
does not open is a 404, as for anyone but its author."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.prepared import PreparedRead, Statement
from sessions import registry
from sessions.models import ConsultReply, CrisisSession
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.policies import supervise_draft_q

# A draft started longer ago than this is no longer a contact in progress but a late note; the
# team page counts those ("Drafts past the late-entry limit").
BOARD_WINDOW_HOURS = 24
BOARD_LIMIT = 100


def _rank(field: str) -> Case:
    return Case(
        *(When(**{field: level}, then=Value(RiskLevel.rank(level))) for level in RiskLevel),
        default=Value(-1),
        output_field=IntegerField(),
    )


def live_board_list(*, user: User, now: datetime | None = None) -> list[CrisisSession]:
    """Drafts of the teams the user supervises started in the last BOARD_WINDOW_HOURS, most
    urgent first: imminent, then high risk, then a consult request, then moderate, then the rest;
    within each, the longest running first. "Risk" is the higher of the screen's and the
    clinician's. Each row is annotated with `risk_rank`, `urgency`, `can_open` (the supervision
    read rule, in SQL) and `replied` (a consult reply exists). One query."""
    require_role(user, Role.SUPERVISOR)
    now = now or timezone.now()
    notes = (
        CrisisSession.objects.filter(
            clinic=user.clinic,
            status=NoteStatus.DRAFT,
            author__team__supervisor=user,
            started_at__gte=now - timedelta(hours=BOARD_WINDOW_HOURS),
        )
        .exclude(author=user)
        .annotate(
            risk_rank=Greatest(_rank("screen_risk"), _rank("clinician_risk")),
            can_open=Case(
                When(supervise_draft_q(user=user), then=Value(True)),
                default=Value(False),
            ),
            replied=Exists(ConsultReply.objects.filter(session=OuterRef("pk"))),
        )
        .annotate(
            urgency=Case(
                When(imminent=True, then=Value(5)),
                When(risk_rank__gte=RiskLevel.rank(RiskLevel.HIGH), then=Value(4)),
                When(consult_requested_at__isnull=False, then=Value(3)),
                When(risk_rank=RiskLevel.rank(RiskLevel.MODERATE), then=Value(2)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .select_related("client", "author")
        .order_by("-urgency", "started_at", "id")
    )
    return list(notes[:BOARD_LIMIT])


def note_get_for_supervision(*, user: User, note_id: int) -> CrisisSession:
    """A draft the user may read as its supervisor while the contact is in progress
    (sessions.policies.can_supervise_draft). Anything else is a 404: the draft stays its
    author's, and a refused supervisor learns no more than anyone else."""
    require_role(user, Role.SUPERVISOR)
    related = ["clinic", "client", "author__team"]
    for section in registry.sections():
        related.extend(section.select_related())
    return get_object_or_404(
        CrisisSession.objects.filter(supervise_draft_q(user=user)).select_related(*related),
        pk=note_id,
    )


_CONSULT_REPLIES = PreparedRead(
    lambda *, note_id: ConsultReply.objects.filter(session_id=note_id).order_by("created_at", "id"),
    ids=("note_id",),
)


def consult_reply_list(*, note: CrisisSession) -> list[ConsultReply]:
    """The consult replies of a note the caller has already been allowed to read, oldest
    first (compiled once, crisisnotes/prepared.py: the note page reads them at every view)."""
    return _CONSULT_REPLIES(note_id=note.pk)


def consult_reply_list_ahead(*, note: CrisisSession) -> Statement:
    """`consult_reply_list`'s statement, to read ahead."""
    return _CONSULT_REPLIES.statement(note_id=note.pk)


def note_get_for_consult_poll(*, user: User, note_id: int) -> CrisisSession:
    """The author's own note (any status), for the polled consult replies on the note page."""
    require_role(user, Role.COUNSELOR)
    return get_object_or_404(
        CrisisSession.objects.filter(clinic=user.clinic, author=user), pk=note_id
    )


def board_elapsed(note: CrisisSession, now: datetime) -> timedelta:
    """How long the contact has run: to its end when entered, else to now."""
    return (note.ended_at or now) - note.started_at
