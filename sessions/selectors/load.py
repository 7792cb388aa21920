"""Team load and quality, per counselor, for the supervisor's team page: after-hours and
overnight contacts, runs of high-risk contacts in a shift, time from the end of a contact to its
signature, return rate on review and overdue follow-ups; and prompts to offer a debrief.

Definitions (docs/supervision.md says the same in words):

- Period: contacts started in the last LOAD_DAYS days.
- Hours are the local time of the contact's start, in the active time zone (the clinic's).
  After hours: before BUSINESS_START or from BUSINESS_END on a weekday, or any time on Saturday
  or Sunday. Overnight: from OVERNIGHT_START to OVERNIGHT_END (a subset of after hours).
- High risk: as everywhere on the team pages (sessions.risk.is_high_risk): the
  governing level (the clinician's when formulated, else the screen's) is high, or imminent.
- Shift: a counselor's contacts in start order, a new shift beginning when more than
  SHIFT_GAP_HOURS pass between the starts of two consecutive contacts. A run is consecutive
  high-risk contacts within one shift; runs of RUN_MIN or more count (and prompt a debrief).
- Time to signature: signed_at − ended_at of notes signed (locked or awaiting co-sign), median.
- Return rate: notes returned with comments ÷ notes that went to review (sent for co-signature
  at least once), among the period's contacts.
- Overdue follow-ups: open tasks assigned to the counselor past their due time (any period).
- Debrief prompt: a run of RUN_MIN+ or an imminent-risk contact in the last DEBRIEF_DAYS days.

Every figure comes from a fixed number of queries, whatever the data: one narrow list of
(author, start, end, signature, risk, and each condition above as a flag) rows for the counts,
runs and medians, one count of overdue follow-ups.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from sessions.models import CrisisSession, FollowUpTask, ReviewComment
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.risk import high_risk_q, is_high_risk

LOAD_DAYS = 30
BUSINESS_START = 9  # 09:00
BUSINESS_END = 17  # 17:00
OVERNIGHT_START = 22  # 22:00
OVERNIGHT_END = 6  # 06:00
SHIFT_GAP_HOURS = 8
RUN_MIN = 3
DEBRIEF_DAYS = 7

LOAD_SESSION_LISTS = {
    "after_hours": format_lazy(
        gettext_lazy("After-hours contacts, last {days} days"), days=LOAD_DAYS
    ),
    "overnight": format_lazy(gettext_lazy("Overnight contacts, last {days} days"), days=LOAD_DAYS),
    "runs": format_lazy(
        gettext_lazy("Runs of {run} or more high-risk contacts in a shift, last {days} days"),
        run=RUN_MIN,
        days=LOAD_DAYS,
    ),
    "signed": format_lazy(
        gettext_lazy("Notes signed, last {days} days (end of contact to signature)"), days=LOAD_DAYS
    ),
    "reviewed": format_lazy(
        gettext_lazy("Notes sent for co-signature, last {days} days"), days=LOAD_DAYS
    ),
    "returned": format_lazy(
        gettext_lazy("Notes returned with comments, last {days} days"), days=LOAD_DAYS
    ),
}

# As lists of hours: `hour IN (...)` converts a row's start to local time once, where `hour < 9
# OR hour >= 17` did it once per comparison (PostgreSQL does not share the repeated
# expression), and the conversion in a named time zone was most of the load read's time.
AFTER_HOURS = [h for h in range(24) if not BUSINESS_START <= h < BUSINESS_END]
OVERNIGHT = [h for h in range(24) if h >= OVERNIGHT_START or h < OVERNIGHT_END]
AFTER_HOURS_Q = Q(local_hour__in=AFTER_HOURS) | Q(local_weekday__gte=6)
OVERNIGHT_Q = Q(local_hour__in=OVERNIGHT)
SIGNED_Q = Q(
    status__in=[NoteStatus.SIGNED, NoteStatus.AWAITING_COSIGN],
    signed_at__isnull=False,
    ended_at__isnull=False,
)
RETURNED_Q = Q(was_returned=True)
REASON_Q = ~Q(cosign_required_reason="")  # a co-signature was required (so asked for)
REVIEWED_Q = REASON_Q | RETURNED_Q


def is_reviewed(*, reason: bool, returned: bool) -> bool:
    """REVIEWED_Q of a row whose REASON_Q and RETURNED_Q are known (team_load reads the
    returned flag once, where REVIEWED_Q and RETURNED_Q side by side probed the review comments
    twice per row; tests/sessions/test_load.py checks the two agree)."""
    return reason or returned


class _DatePartMixin:
    """ExtractHour / ExtractIsoWeekDay through date_part on PostgreSQL: the same number, as a
    float8 rather than the numeric EXTRACT answers since PostgreSQL 14, which the comparisons of
    AFTER_HOURS_Q and OVERNIGHT_Q then make on each of the period's rows (EXPLAIN ANALYZE on
    the bench: the two flags 0.7 -> 0.45 ms in UTC, 1.5 -> 1.3 ms in America/New_York)."""

    part: str

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = self.as_sql(compiler, connection, **extra)  # type: ignore[attr-defined]
        prefix = f"EXTRACT({self.part.upper()} FROM "
        assert sql.startswith(prefix) and sql.endswith(")"), sql
        return f"date_part('{self.part}', {sql[len(prefix) : -1]})", params


class _LocalHour(_DatePartMixin, ExtractHour):
    part = "hour"


class _LocalIsoWeekDay(_DatePartMixin, ExtractIsoWeekDay):
    part = "isodow"


def _annotated(notes: QuerySet[CrisisSession]) -> QuerySet[CrisisSession]:
    """Local start hour and ISO weekday (in the active time zone), and whether the note was ever
    returned (review comments are written only by a return)."""
    return notes.annotate(
        local_hour=_LocalHour("started_at"),
        local_weekday=_LocalIsoWeekDay("started_at"),
        was_returned=Exists(ReviewComment.objects.filter(session=OuterRef("pk"))),
    )


def _period_notes(user: User, since: datetime) -> QuerySet[CrisisSession]:
    return CrisisSession.objects.filter(
        clinic=user.clinic, author__team__supervisor=user, started_at__gte=since
    )


def _is_high(screen: str, clinician: str, imminent: bool) -> bool:
    return is_high_risk(clinician=clinician, screen=screen, imminent=imminent)


def _local_day(micros: int) -> str:
    return timezone.localtime(from_micros(micros)).strftime("%a %d %b %H:%M")


def _median(seconds: list[float]) -> timedelta | None:
    return timedelta(seconds=statistics.median(seconds)) if seconds else None


class _Epoch(Func):
    """Seconds since 1970 of a timestamp, or the seconds of an interval, as a float (a number
    Python reads much faster than a timestamp)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
    output_field = FloatField()

    def get_db_converters(self, connection: Any) -> list[Any]:
        # float8 already arrives as a float (or None): Django's float() of every value of every
        # row (the expression's own converter, dropped here) was a fifth of the team load's
        # reading of its ~2,000 rows.
        return self.output_field.get_db_converters(connection)


class _Micros(Func):
    """Microseconds since 1970 of a timestamp, as a bigint: exact (a float8 of the epoch holds
    a timestamp to well under a microsecond, so rounding it back is the timestamp itself), and
    an integer Python compares and subtracts without building a datetime per row."""

    template = "(date_part('epoch', %(expressions)s) * 1000000)::bigint"  # the cast rounds
    output_field = BigIntegerField()

    def get_db_converters(self, connection: Any) -> list[Any]:
        # int8 already arrives as an int: no int() of every row.
        return self.output_field.get_db_converters(connection)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SHIFT_GAP_US = SHIFT_GAP_HOURS * 3600 * 1_000_000


def to_micros(moment: datetime) -> int:
    """A datetime as _Micros gives it."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class Contact(NamedTuple):
    pk: int
    started_us: int  # microseconds since 1970 (to_micros)
    high: bool


def high_risk_runs(contacts: Iterable[tuple[int, int, bool]]) -> list[list[tuple[int, int, bool]]]:
    """Runs of RUN_MIN or more consecutive high-risk contacts within a shift, from one
    counselor's contacts in start order, each a Contact (or a plain (pk, started_us, high)
    tuple: team_load passes its rows' columns as they come)."""
    runs: list[list[tuple[int, int, bool]]] = []
    current: list[tuple[int, int, bool]] = []
    previous: int | None = None
    for contact in contacts:
        _pk, started, high = contact
        new_shift = previous is not None and started - previous > SHIFT_GAP_US
        if new_shift or not high:
            if len(current) >= RUN_MIN:
                runs.append(current)
            current = []
        if high:
            current.append(contact)
        previous = started
    if len(current) >= RUN_MIN:
        runs.append(current)
    return runs


@dataclass
class CounselorLoad:
    counselor: User
    contacts: int = 0
    after_hours: int = 0
    overnight: int = 0
    runs: int = 0
    longest_run: int = 0
    signed: int = 0
    median_to_sign: timedelta | None = None
    reviewed: int = 0
    returned: int = 0
    overdue_followups: int = 0

    @property
    def return_rate(self) -> float | None:
        return self.returned / self.reviewed if self.reviewed else None


@dataclass(frozen=True)
class DebriefPrompt:
    counselor: User
    reason: str
    kind: str  # "run" or "imminent"
    note_id: int | None = None  # the imminent contact; runs open the counselor's run list


@dataclass
class TeamLoad:
    since: datetime
    rows: list[CounselorLoad] = field(default_factory=list)
    debriefs: list[DebriefPrompt] = field(default_factory=list)
    # The definitions, for the page to state them as the code applies them.
    days: int = LOAD_DAYS
    business_start: int = BUSINESS_START
    business_end: int = BUSINESS_END
    overnight_start: int = OVERNIGHT_START
    overnight_end: int = OVERNIGHT_END
    shift_gap_hours: int = SHIFT_GAP_HOURS
    run_min: int = RUN_MIN
    debrief_days: int = DEBRIEF_DAYS


# The columns of a row of the period (period_rows), in order.
PERIOD_COLUMNS = (
    "author_id",
    "pk",
    "started_us",
    "is_high",
    "seconds_to_sign",
    "imminent",
    "is_after_hours",
    "is_overnight",
    "has_reason",
    "is_returned",
)


def _period_queryset(
    user: User, author_ids: Sequence[int], since: datetime
) -> QuerySet[CrisisSession, tuple[Any, ...]]:
    """The period's rows as the ORM states them: the home of every flag's rule (the list pages'
    own conditions, AFTER_HOURS_Q..., evaluated per row by the database, so a count and the
    list behind it cannot disagree). _PERIOD_SQL is its twin on PostgreSQL."""
    flags = {
        name: ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in (
            ("is_high", high_risk_q()),
            ("is_after_hours", AFTER_HOURS_Q),
            ("is_overnight", OVERNIGHT_Q),
            ("has_reason", REASON_Q),
            ("is_returned", RETURNED_Q),
        )
    }
    return (
        _annotated(_period_notes(user, since).filter(author_id__in=author_ids))
        .annotate(
            started_us=_Micros(F("started_at")),
            seconds_to_sign=_Epoch(
                Case(
                    When(SIGNED_Q, then=F("signed_at") - F("ended_at")),
                    default=None,
                    output_field=DurationField(),
                )
            ),
            **flags,
        )
        .order_by("author_id", "started_at", "id")
        .values_list(*PERIOD_COLUMNS)
    )


def _hours(hours: Sequence[int]) -> str:
    return ", ".join(str(int(h)) for h in hours)


# _period_queryset's statement, written once: building and compiling it through the ORM (its
# five flags, the review-comment EXISTS, the time zone conversions) cost the team page more
# than running it, at every request. The same columns and conditions, with two differences
# that change no value: the local start is converted once per row (LATERAL), where the ORM's
# three date_parts each converted it again; and the team is the member ids given (the ORM's
# join to the team asks the same of each author: team_member_list's members are the clinic's
# members of the user's teams). tests/sessions/test_load.py compares the two on a grid of
# every flag's combinations, in three time zones.
_PERIOD_SQL = f"""
SELECT s.author_id,
       s.id,
       (date_part('epoch', s.started_at) * 1000000)::bigint,
       (s.imminent OR COALESCE(NULLIF(s.clinician_risk, ''), s.screen_risk) = %(high)s),
       EXTRACT(EPOCH FROM CASE
           WHEN (s.ended_at IS NOT NULL AND s.signed_at IS NOT NULL
                 AND s.status IN (%(signed)s, %(awaiting)s))
           THEN (s.signed_at - s.ended_at) ELSE NULL END)::float8,
       s.imminent,
       (local.hour IN ({_hours(AFTER_HOURS)}) OR local.isodow >= 6),
       local.hour IN ({_hours(OVERNIGHT)}),
       NOT (s.cosign_required_reason = ''),
       EXISTS(SELECT 1 FROM {ReviewComment._meta.db_table} c WHERE c.session_id = s.id LIMIT 1)
  FROM {CrisisSession._meta.db_table} s,
       LATERAL (SELECT s.started_at AT TIME ZONE %(zone)s AS at) zoned,
       LATERAL (SELECT date_part('hour', zoned.at) AS hour,
                       date_part('isodow', zoned.at) AS isodow) local
 WHERE s.clinic_id = %(clinic)s
   AND s.author_id = ANY(%(authors)s)
   AND s.started_at >= %(since)s
 ORDER BY s.author_id, s.started_at, s.id
"""  # noqa: S608 (table names and constants; values are parameters)


@cache
def _zone_parameter(zone: tzinfo) -> str:
    """What the ORM passes to AT TIME ZONE when `zone` is the active time zone (Django names
    some zones by their abbreviation, Etc/GMT+5 as "-05", and rewrites offsets): _PERIOD_SQL
    converts exactly as _period_queryset does."""
    with timezone.override(zone):
        _sql, params = (
            CrisisSession.objects.annotate(hour=_LocalHour("started_at"))
            .values_list("hour")
            .query.sql_with_params()
        )
    (parameter,) = params
    return str(parameter)


def period_rows(*, user: User, author_ids: Sequence[int], since: datetime) -> list[tuple[Any, ...]]:
    """The contacts of `author_ids` (members of the user's teams) started since `since`, in
    author, start and id order, each a tuple of PERIOD_COLUMNS: numbers and flags, not
    timestamps and risk levels (parsing ~6,000 timestamps was most of team_load's time on a
    team's 2,000 contacts). One query."""
    if not author_ids:
        return []
    if connection.vendor != "postgresql":
        return list(_period_queryset(user, author_ids, since))
    with connection.cursor() as cursor:
        cursor.execute(
            _PERIOD_SQL,
            {
                "high": RiskLevel.HIGH.value,
                "signed": NoteStatus.SIGNED.value,
                "awaiting": NoteStatus.AWAITING_COSIGN.value,
                "zone": _zone_parameter(timezone.get_current_timezone()),
                "clinic": user.clinic_id,
                "authors": list(author_ids),
                "since": since,
            },
        )
        return cursor.fetchall()


def team_load(
    *,
    user: User,
    counselors: Sequence[User],
    now: datetime | None = None,
    period: Sequence[tuple[Any, ...]] | None = None,
    overdue: dict[int, int] | None = None,
) -> TeamLoad:
    """Load and quality of `counselors` (members of the user's teams, already loaded) over the
    last LOAD_DAYS days, and the debrief prompts of the last DEBRIEF_DAYS. Two queries, none
    when the caller has read them: `period`, period_rows since now - LOAD_DAYS of at least
    the counselors (other authors' rows are passed over), and `overdue`, the open follow-ups
    past `now` of at least each counselor who has any."""
    require_role(user, Role.SUPERVISOR)
    now = now or timezone.now()
    since = now - timedelta(days=LOAD_DAYS)
    rows = {c.pk: CounselorLoad(counselor=c) for c in counselors}
    result = TeamLoad(since=since, rows=list(rows.values()))
    if not rows:
        return result
    # One read of the period's rows gives both the counts and the runs and medians; a second,
    # aggregate query over the same rows cost as much as this one again (their heap pages are
    # spread over the whole table).
    if period is None:
        period = period_rows(user=user, author_ids=list(rows), since=since)
    recent = to_micros(now - timedelta(days=DEBRIEF_DAYS))
    debriefs: dict[int, list[DebriefPrompt]] = defaultdict(list)
    # The rows come in author order: each counselor's are taken as columns (zip(*...) does
    # it in C), counted by sum() of their flags, and the runs found on the (pk, start, high)
    # columns as they are. A datetime is made only for what a debrief prompt shows.
    for author_id, group in groupby(period, key=itemgetter(0)):
        row = rows.get(author_id)
        if row is None:
            continue
        (
            _authors,
            pks,
            starts,
            highs,
            to_sign,
            imminents,
            after_hours,
            overnight,
            reasons,
            returned,
        ) = zip(*group, strict=True)
        row.contacts = len(pks)
        row.after_hours = sum(after_hours)
        row.overnight = sum(overnight)
        row.reviewed = sum(
            is_reviewed(reason=reason, returned=back)
            for reason, back in zip(reasons, returned, strict=True)
        )
        row.returned = sum(returned)
        seconds = [s for s in to_sign if s is not None]
        row.signed = len(seconds)
        row.median_to_sign = _median(seconds)
        runs = high_risk_runs(zip(pks, starts, highs, strict=True))
        row.runs = len(runs)
        row.longest_run = max((len(r) for r in runs), default=0)
        name = row.counselor.display_name
        for run in runs:
            if run[-1][1] >= recent:
                day = _local_day(run[0][1])
                debriefs[author_id].append(
                    DebriefPrompt(
                        counselor=row.counselor,
                        kind="run",
                        reason=_(
                            "%(count)d high-risk contacts in a row in %(name)s's shift from %(day)s"
                        )
                        % {"count": len(run), "name": name, "day": day},
                    )
                )
        for pk, started, imminent in zip(pks, starts, imminents, strict=True):
            if imminent and started >= recent:
                debriefs[author_id].append(
                    DebriefPrompt(
                        counselor=row.counselor,
                        kind="imminent",
                        reason=_("an imminent-risk contact (%(day)s)")
                        % {"day": _local_day(started)},
                        note_id=pk,
                    )
                )
    for author_id in rows:  # the prompts in the counselors' order
        result.debriefs.extend(debriefs[author_id])

    if overdue is None:
        overdue = dict(
            FollowUpTask.objects.filter(
                clinic=user.clinic,
                closed_at__isnull=True,
                assigned_to_id__in=rows,
                due_at__lt=now,
            )
            .values("assigned_to_id")
            .annotate(n=Count("pk"))
            .values_list("assigned_to_id", "n")
        )
    for author_id, row in rows.items():
        row.overdue_followups = overdue.get(author_id, 0)
    return result


def team_load_session_list(
    *, user: User, name: str, counselor_id: int | None = None, now: datetime | None = None
) -> QuerySet[CrisisSession]:
    """The sessions behind one load figure (LOAD_SESSION_LISTS), newest first; the same
    conditions as the counts."""
    require_role(user, Role.SUPERVISOR)
    if name not in LOAD_SESSION_LISTS:
        raise ValueError(name)
    now = now or timezone.now()
    notes = _annotated(_period_notes(user, now - timedelta(days=LOAD_DAYS)))
    if counselor_id is not None:
        notes = notes.filter(author_id=counselor_id)
    if name == "runs":
        contacts: dict[int, list[Contact]] = defaultdict(list)
        for pk, author_id, started, screen, clinician, imminent in notes.order_by(
            "author_id", "started_at", "id"
        ).values_list("pk", "author_id", "started_at", "screen_risk", "clinician_risk", "imminent"):
            contacts[author_id].append(
                Contact(pk, to_micros(started), _is_high(screen, clinician, imminent))
            )
        in_runs = [c[0] for cs in contacts.values() for run in high_risk_runs(cs) for c in run]
        notes = notes.filter(pk__in=in_runs)
    else:
        notes = notes.filter(
            {
                "after_hours": AFTER_HOURS_Q,
                "overnight": OVERNIGHT_Q,
                "signed": SIGNED_Q,
                "reviewed": REVIEWED_Q,
                "returned": RETURNED_Q,
            }[name]
        )
    return notes.select_related("client", "author__team").order_by("-started_at", "-id")
