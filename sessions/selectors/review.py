"""Reads for supervision: the review queue, the note under review, the team dashboard and the
lists behind its numbers, and a client's risk trend. Everything is scoped to the reader's clinic
and, for supervisors, to the teams they supervise; drafts show only as counts and list rows
(never their content) to anyone but their author."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.prepared import PreparedRead, Statement
from sessions import registry
from sessions.models import Client, CrisisSession, ExplorationStage, FollowUpTask, ReviewComment
from sessions.models.followups import FollowUpMethod
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.policies import can_review, cosign_q
from sessions.risk import governing_risk, governing_risk_q, high_risk_q
from sessions.selectors.load import LOAD_DAYS, TeamLoad, period_rows, team_load, to_micros

HIGH_RISK_DAYS = 7


# --- the review queue and the note under review ---------------------------------------------


def team_member_list(*, user: User) -> QuerySet[User]:
    """Members of the teams the user supervises (the people whose notes they review)."""
    require_role(user, Role.SUPERVISOR)
    return User.objects.filter(clinic=user.clinic, team__supervisor=user).order_by(
        "full_name", "username"
    )


# What a row of the review queue (and of the team page's five oldest) shows: the queue lists up
# to 200 notes, and reading every column of each note, client and author (~80, ten of them
# timestamps) was a third of its time (bench/README.md). Another field read from these rows
# costs a query per row: add it here.
QUEUE_ROW_FIELDS = (
    "started_at",
    "signed_at",
    "cosign_required_reason",
    "status",
    "screen_risk",
    "clinician_risk",
    "imminent",
    "client__alias",
    "author__full_name",
    "author__username",
)


def awaiting_cosign_list_for_supervisor(
    *, user: User, counselor_id: int | None = None, risk: str | None = None
) -> QuerySet[CrisisSession]:
    """Notes waiting for a co-signature from the teams this user supervises, oldest first,
    with the fields of QUEUE_ROW_FIELDS only.

    `risk`: "imminent", a RiskLevel value, or "unassessed"."""
    require_role(user, Role.SUPERVISOR)
    notes = (
        CrisisSession.objects.filter(cosign_q(user=user))
        .select_related("client", "author")
        .only(*QUEUE_ROW_FIELDS)
    )
    if counselor_id is not None:
        notes = notes.filter(author_id=counselor_id)
    if risk == "imminent":
        notes = notes.filter(imminent=True)
    elif risk == "unassessed":
        notes = notes.filter(governing_risk_q(""))
    elif risk in RiskLevel.values:
        notes = notes.filter(governing_risk_q(risk))
    return notes.order_by("signed_at", "id")


class QueueRow(NamedTuple):
    """What a row of the review queue shows of a note, read as values: up to 200 notes, each
    built as a note, a client and an author instance with ~50 deferred fields apiece, were a
    fifth of the queue's time (bench/README.md, issue 15). The attributes the row's markup and
    its risk badge read have the note's names."""

    pk: int
    client_alias: str
    author_name: str  # the author's display_name
    started_at: datetime
    signed_at: datetime | None
    cosign_required_reason: str
    screen_risk: str
    clinician_risk: str
    imminent: bool

    @property
    def risk_level(self) -> str:
        return governing_risk(clinician=self.clinician_risk, screen=self.screen_risk)


def queue_rows(notes: QuerySet[CrisisSession]) -> list[QueueRow]:
    """The review queue's rows of `notes` (awaiting_cosign_list_for_supervisor, sliced), in
    their order, in one query."""
    return [
        QueueRow(
            pk=pk,
            client_alias=alias,
            author_name=full_name or username,  # as User.display_name
            started_at=started_at,
            signed_at=signed_at,
            cosign_required_reason=reason,
            screen_risk=screen_risk,
            clinician_risk=clinician_risk,
            imminent=imminent,
        )
        for (
            pk,
            alias,
            full_name,
            username,
            started_at,
            signed_at,
            reason,
            screen_risk,
            clinician_risk,
            imminent,
        ) in notes.values_list(
            "pk",
            "client__alias",
            "author__full_name",
            "author__username",
            "started_at",
            "signed_at",
            "cosign_required_reason",
            "screen_risk",
            "clinician_risk",
            "imminent",
        )
    ]


class FollowupRow(NamedTuple):
    """What a row of a team follow-up list shows of a task, read as values, as QueueRow is a
    queue row: 200 tasks built as a task, a client and a user instance with deferred fields
    were a third of the page's worker time (bench/README.md, pages11)."""

    pk: int
    due_at: datetime
    method: str
    purpose: str
    client_alias: str
    assigned_to_id: int
    assignee_name: str  # the assignee's display_name

    def get_method_display(self) -> str:
        """As FollowUpTask.get_method_display."""
        return str(dict(FollowUpMethod.choices).get(self.method, self.method))


def followup_rows(tasks: QuerySet[FollowUpTask]) -> list[FollowupRow]:
    """The rows of `tasks` (team_followup_list, sliced), in their order, in one query."""
    return [
        FollowupRow(
            pk=pk,
            due_at=due_at,
            method=method,
            purpose=purpose,
            client_alias=alias,
            assigned_to_id=assigned_to_id,
            assignee_name=full_name or username,  # as User.display_name
        )
        for (
            pk,
            due_at,
            method,
            purpose,
            alias,
            assigned_to_id,
            full_name,
            username,
        ) in tasks.values_list(
            "pk",
            "due_at",
            "method",
            "purpose",
            "client__alias",
            "assigned_to_id",
            "assigned_to__full_name",
            "assigned_to__username",
        )
    ]


def note_get_for_review(*, user: User, note_id: int) -> CrisisSession:
    """A signed or awaiting note for its author's team supervisor. Another clinic's note, or a
    draft (only its author reads a draft), is a 404; anyone else of the clinic gets a 403."""
    related = ["client", "author__team"]
    for section in registry.sections():
        related.extend(section.select_related())
    note = get_object_or_404(
        CrisisSession.objects.filter(clinic=user.clinic)
        .exclude(status=NoteStatus.DRAFT)
        .select_related(*related),
        pk=note_id,
    )
    require_role(user, Role.SUPERVISOR)
    if not can_review(note=note, user=user):
        raise PermissionDenied
    return note


def note_returned_to_author(*, user: User, note_id: int) -> bool:
    """Whether `note_id` is a draft of this clinic that came back from review and that `user`
    may review: how a supervisor whose decision lost a race to a return learns what happened
    (the draft itself stays visible to its author only)."""
    note = (
        CrisisSession.objects.filter(
            clinic=user.clinic, status=NoteStatus.DRAFT, review_comments__isnull=False
        )
        .select_related("author__team")
        .filter(pk=note_id)
        .first()
    )
    return note is not None and can_review(note=note, user=user)


_REVIEW_COMMENTS = PreparedRead(
    lambda *, note_id: ReviewComment.objects.filter(session_id=note_id).order_by("round", "id"),
    ids=("note_id",),
)


def review_comment_list(*, note: CrisisSession) -> list[ReviewComment]:
    """The review thread of a note the caller has already been allowed to read, oldest first.
    Cached on the note so every partial of a page shares one query (compiled once,
    crisisnotes/prepared.py: the note page reads it at every view)."""
    cached: list[ReviewComment] | None = getattr(note, "_review_comment_cache", None)
    if cached is None:
        prefetched = getattr(note, "_prefetched_objects_cache", {}).get("review_comments")
        cached = list(prefetched) if prefetched is not None else _REVIEW_COMMENTS(note_id=note.pk)
        note._review_comment_cache = cached  # type: ignore[attr-defined]
    return cached


def review_comment_list_ahead(*, note: CrisisSession) -> list[Statement]:
    """`review_comment_list`'s statement, to read ahead (none when it is cached or
    prefetched on the note already)."""
    if hasattr(note, "_review_comment_cache") or "review_comments" in getattr(
        note, "_prefetched_objects_cache", {}
    ):
        return []
    return [_REVIEW_COMMENTS.statement(note_id=note.pk)]


@dataclass(frozen=True)
class ReviewRound:
    number: int
    comments: list[ReviewComment]


def review_rounds(*, note: CrisisSession) -> list[ReviewRound]:
    """The thread grouped by return, most recent round last."""
    rounds: dict[int, list[ReviewComment]] = {}
    for comment in review_comment_list(note=note):
        rounds.setdefault(comment.round, []).append(comment)
    return [ReviewRound(number=n, comments=c) for n, c in sorted(rounds.items())]


# --- team dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """The moments the dashboard counts from, in the clinic's time zone."""

    now: datetime
    high_risk_since: datetime
    week_start: datetime
    today_end: datetime

    @classmethod
    def at(cls, now: datetime | None = None) -> Window:
        now = now or timezone.now()
        local = timezone.localtime(now)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(
            now=now,
            high_risk_since=now - timedelta(days=HIGH_RISK_DAYS),
            week_start=midnight - timedelta(days=local.weekday()),
            today_end=midnight + timedelta(days=1),
        )


TEAM_SESSION_LISTS = {
    "high_risk": gettext_lazy("High-risk and imminent sessions, last 7 days"),
    "late_drafts": gettext_lazy("Drafts past the late-entry limit"),
    "week": gettext_lazy("Sessions this week"),
    "awaiting": gettext_lazy("Waiting for your co-signature"),
}
# Which of those lists only holds sessions of the last days, and which only open notes (the
# dashboard counts each group from its own rows).
RECENT_SESSION_LISTS = ("high_risk", "week")
OPEN_SESSION_LISTS = ("late_drafts", "awaiting")
assert {*RECENT_SESSION_LISTS, *OPEN_SESSION_LISTS} == set(TEAM_SESSION_LISTS)
TEAM_FOLLOWUP_LISTS = {
    "overdue": gettext_lazy("Follow-ups overdue"),
    "due_today": gettext_lazy("Follow-ups due today"),
}


def _team_notes(user: User) -> QuerySet[CrisisSession]:
    return CrisisSession.objects.filter(clinic=user.clinic, author__team__supervisor=user)


def _session_list_q(user: User, name: str, window: Window) -> Q:
    if name == "high_risk":
        return high_risk_q() & Q(started_at__gte=window.high_risk_since)
    if name == "late_drafts":
        assert user.clinic is not None
        limit = window.now - timedelta(hours=user.clinic.late_entry_hours)
        # A draft is late once the session ended (or, if no end was entered, started) longer ago
        # than the clinic's late-entry limit.
        return Q(status=NoteStatus.DRAFT, late_reference__lt=limit)
    if name == "week":
        return Q(started_at__gte=window.week_start)
    if name == "awaiting":
        return Q(status=NoteStatus.AWAITING_COSIGN) & ~Q(author=user)
    raise ValueError(name)


def _followup_list_q(name: str, window: Window) -> Q:
    if name == "overdue":
        return Q(due_at__lt=window.now)
    if name == "due_today":
        return Q(due_at__gte=window.now, due_at__lt=window.today_end)
    raise ValueError(name)


def team_session_list(
    *,
    user: User,
    name: str,
    counselor_id: int | None = None,
    high_risk_only: bool = False,
    window: Window | None = None,
) -> QuerySet[CrisisSession]:
    """The sessions behind one of the dashboard's numbers (TEAM_SESSION_LISTS), newest first."""
    require_role(user, Role.SUPERVISOR)
    if name not in TEAM_SESSION_LISTS:
        raise ValueError(name)
    window = window or Window.at()
    notes = (
        _team_notes(user)
        .annotate(late_reference=Coalesce("ended_at", "started_at"))
        .filter(_session_list_q(user, name, window))
    )
    if counselor_id is not None:
        notes = notes.filter(author_id=counselor_id)
    if high_risk_only:
        notes = notes.filter(high_risk_q())
    # author__team: the supervision read rule decides, per draft, whether the row links.
    return notes.select_related("client", "author__team").order_by("-started_at", "-id")


def team_followup_list(
    *, user: User, name: str, window: Window | None = None, assignee_id: int | None = None
) -> QuerySet[FollowUpTask]:
    """Open follow-up tasks assigned to members of the user's teams behind a dashboard number
    (one member's when `assignee_id` is given)."""
    require_role(user, Role.SUPERVISOR)
    if name not in TEAM_FOLLOWUP_LISTS:
        raise ValueError(name)
    window = window or Window.at()
    tasks = FollowUpTask.objects.filter(
        clinic=user.clinic, closed_at__isnull=True, assigned_to__team__supervisor=user
    ).filter(_followup_list_q(name, window))
    if assignee_id is not None:
        tasks = tasks.filter(assigned_to_id=assignee_id)
    # Only what a row of the list shows (up to 200 rows; as QUEUE_ROW_FIELDS).
    return (
        tasks.select_related("client", "assigned_to")
        .only(
            "due_at",
            "method",
            "purpose",
            "client__alias",
            "assigned_to__full_name",
            "assigned_to__username",
        )
        .order_by("due_at", "id")
    )


# What a row of the dashboard's recent high-risk list reads (its link by the supervision rule,
# author, risk badge, date and status): every column of the note, client, author and team was
# most of the list's time (5.6 ms for five rows on the bench). Another field read from these
# rows costs a query per row: add it here.
DASHBOARD_HIGH_RISK_FIELDS = (
    "clinic",
    "started_at",
    "status",
    "screen_risk",
    "clinician_risk",
    "imminent",
    "consult_requested_at",
    "client__alias",
    "author__full_name",
    "author__username",
    "author__team__supervisor",
)


@dataclass(frozen=True)
class TeamDashboard:
    counts: dict[str, int]
    workload: Sequence[User]  # annotated: sessions_week, high_risk_week
    awaiting: list[CrisisSession]
    high_risk: list[CrisisSession]  # the most recent few; the list page has them all
    window: Window
    load: TeamLoad  # per counselor, last LOAD_DAYS days, and the debrief prompts


def team_dashboard(*, user: User, now: datetime | None = None) -> TeamDashboard:
    """Every number of the supervisor's home in a fixed number of queries, whatever the data:
    the team's members, one read of their last LOAD_DAYS days of contacts (the recent counts,
    each counselor's week and the team load), one of their open notes, one of their open
    follow-ups, and the five oldest notes awaiting co-signature and five latest high-risk
    contacts (none read when there are none)."""
    require_role(user, Role.SUPERVISOR)
    window = Window.at(now)
    # The team's members first, then their notes by author. Joined to the team in the same
    # query, the planner cannot know whose notes to probe for: it read every open note of the
    # clinic through the status index (3,100 rows, 140 heap pages on the bench's data) to keep
    # the team's quarter of them; by author it reads them from session_author_open_idx alone.
    # (A clinic's notes are its members' notes: team_member_list is the clinic's.)
    members = list(team_member_list(user=user))
    workload = [member for member in members if member.is_active and member.is_counselor]
    member_ids = [member.pk for member in members]
    team_notes = CrisisSession.objects.filter(clinic=user.clinic, author_id__in=member_ids)
    # The recent lists (high risk, this week) hold contacts of the last days, all inside the
    # team load's period: they are counted from its rows, one read for the counts, each
    # counselor's week, the load table and the five latest high-risk contacts. The rows carry
    # high_risk_q as a flag (is_high) and each start in microseconds, compared here with the
    # window's bounds (to_micros, exact) as the lists compare started_at.
    since = window.now - timedelta(days=LOAD_DAYS)
    assert since <= min(window.high_risk_since, window.week_start)
    period = period_rows(user=user, author_ids=member_ids, since=since)
    high_risk_since_us = to_micros(window.high_risk_since)
    week_start_us = to_micros(window.week_start)
    week: dict[int, list[int]] = {pk: [0, 0] for pk in member_ids}  # sessions, high risk
    recent_high: list[tuple[int, int]] = []  # (started_us, pk)
    for author_id, pk, started_us, is_high, *_rest in period:
        if started_us >= week_start_us:
            sessions = week[author_id]
            sessions[0] += 1
            sessions[1] += is_high
        if is_high and started_us >= high_risk_since_us:
            recent_high.append((started_us, pk))
    for member in members:
        member.sessions_week, member.high_risk_week = week[member.pk]  # type: ignore[attr-defined]
    counts: dict[str, int] = {
        "high_risk": len(recent_high),
        "week": sum(sessions for sessions, _high in week.values()),
    }
    # The open lists through their own index (author and open status).
    still_open = Q(status__in=[NoteStatus.DRAFT, NoteStatus.AWAITING_COSIGN])
    counts.update(
        team_notes.filter(still_open)
        .annotate(late_reference=Coalesce("ended_at", "started_at"))
        .aggregate(
            **{
                name: Count("pk", filter=_session_list_q(user, name, window))
                for name in OPEN_SESSION_LISTS
            }
        )
    )
    # The follow-up counts per member: their sums are the team's numbers, and each
    # counselor's overdue ones the load table's (its "overdue" is the list's condition).
    followups = {
        assignee: (overdue, due_today)
        for assignee, overdue, due_today in FollowUpTask.objects.filter(
            clinic=user.clinic, closed_at__isnull=True, assigned_to_id__in=member_ids
        )
        .values("assigned_to_id")
        .annotate(
            **{
                name: Count("pk", filter=_followup_list_q(name, window))
                for name in TEAM_FOLLOWUP_LISTS
            }
        )
        .order_by()
        .values_list("assigned_to_id", *TEAM_FOLLOWUP_LISTS)
    }
    assert tuple(TEAM_FOLLOWUP_LISTS) == ("overdue", "due_today")
    counts["overdue"] = sum(overdue for overdue, _today in followups.values())
    counts["due_today"] = sum(today for _overdue, today in followups.values())
    # The queue is the counted notes' subset (cosign_q: the members' notes awaiting, not the
    # user's own): nothing to read when none is counted.
    awaiting = (
        list(awaiting_cosign_list_for_supervisor(user=user)[:5]) if counts["awaiting"] else []
    )
    # The five latest high-risk contacts, newest first as the list page orders them (started_at,
    # then id), read by their pks: the period's rows found them among the team's contacts.
    latest = [pk for _started, pk in sorted(recent_high, reverse=True)[:5]]
    high_risk = (
        list(
            CrisisSession.objects.filter(clinic=user.clinic, pk__in=latest)
            .select_related("client", "author__team")
            .only(*DASHBOARD_HIGH_RISK_FIELDS)
            .order_by("-started_at", "-id")
        )
        if latest
        else []
    )
    return TeamDashboard(
        counts=counts,
        workload=workload,
        awaiting=awaiting,
        high_risk=high_risk,
        window=window,
        load=team_load(
            user=user,
            counselors=workload,
            now=window.now,
            period=period,
            overdue={assignee: overdue for assignee, (overdue, _today) in followups.items()},
        ),
    )


# --- client risk trend ------------------------------------------------------------------------

TREND_MAX_SESSIONS = 20


class TrendRow(NamedTuple):
    """What the risk trend shows of a session, read as values: 20 notes built as models with
    their deferred exploration stage cost the client page more than its query (bench/README.md,
    issue 15). The SUDS are None without an exploration stage, as they were then."""

    started_at: datetime
    screen_risk: str
    clinician_risk: str
    imminent: bool
    suds_start: int | None
    suds_end: int | None


def _trend_queryset(user: User, client: Client) -> QuerySet[CrisisSession, tuple[Any, ...]]:
    """The risk trend's rows as the ORM states them, the home of its rules (_TREND_SQL is its
    twin on PostgreSQL): the client's last sessions, newest first, signed and awaiting notes
    and the reader's own drafts."""
    return (
        CrisisSession.objects.filter(clinic=user.clinic, client=client)
        .filter(~Q(status=NoteStatus.DRAFT) | Q(author=user))
        .order_by("-started_at", "-id")
        .values_list(
            "started_at",
            "screen_risk",
            "clinician_risk",
            "imminent",
            "exploration__suds_start",
            "exploration__suds_end",
        )[:TREND_MAX_SESSIONS]
    )


# _trend_queryset's statement, written once: building and compiling it through the ORM cost
# the client page ~4 ms of CPU at every request, running it well under one (bench/README.md,
# issue 15). tests/sessions/test_clients.py compares the two.
_TREND_SQL = f"""
SELECT s.started_at, s.screen_risk, s.clinician_risk, s.imminent, e.suds_start, e.suds_end
  FROM {CrisisSession._meta.db_table} s
  LEFT JOIN {ExplorationStage._meta.db_table} e ON e.session_id = s.id
 WHERE s.clinic_id = %(clinic)s AND s.client_id = %(client)s
   AND (NOT (s.status = %(draft)s) OR s.author_id = %(user)s)
 ORDER BY s.started_at DESC, s.id DESC
 LIMIT {TREND_MAX_SESSIONS}
"""  # noqa: S608 (table names and a constant; values are parameters)


def client_trend_rows(*, user: User, client: Client) -> list[TrendRow]:
    """The client's last sessions, oldest first, for the risk trend: signed and awaiting notes,
    and the reader's own drafts."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
    if client.clinic_id != user.clinic_id:
        raise PermissionDenied
    if connection.vendor != "postgresql":
        rows: list[tuple[Any, ...]] = list(_trend_queryset(user, client))
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                _TREND_SQL,
                {
                    "clinic": user.clinic_id,
                    "client": client.pk,
                    "draft": NoteStatus.DRAFT.value,
                    "user": user.pk,
                },
            )
            rows = cursor.fetchall()
    return [TrendRow(*row) for row in reversed(rows)]
