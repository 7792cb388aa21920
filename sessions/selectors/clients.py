"""Reads of case records, scoped to the reader's clinic (another clinic's client is a 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Exists, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.choices import choice_label
from sessions.models import Addendum, Client, CrisisSession, FollowUpTask
from sessions.models.clients import phone_digits
from sessions.policies import READ_ROLES
from sessions.risk import governing_risk

SEARCH_LIMIT = 20


def client_list(*, user: User) -> QuerySet[Client]:
    require_role(user, *READ_ROLES)
    return Client.objects.filter(clinic=user.clinic)


def client_get(*, user: User, client_id: int) -> Client:
    return get_object_or_404(client_list(user=user), pk=client_id)


def client_search(*, user: User, q: str) -> QuerySet[Client]:
    """Alias, name or phone (any format: matched on digits), newest first. Empty query → the
    clients seen most recently."""
    clients = client_list(user=user)
    q = q.strip()
    if q:
        match = Q(alias__icontains=q) | Q(name__icontains=q)
        digits = phone_digits(q)
        if len(digits) >= 3:
            match |= Q(phone_digits__contains=digits)
        clients = clients.filter(match)
    return clients.order_by("-updated_at", "-id")[:SEARCH_LIMIT]


# What a row of the client's timeline shows and what decides whether it links (can_open_note):
# reading every column of each note and its author (~60, a dozen of them timestamps) cost more
# than the rows' markup. Another field read from these rows costs a query per row: add it here.
TIMELINE_ROW_FIELDS = (
    "clinic_id",
    "author_id",
    "started_at",
    "modality",
    "status",
    "late_entry",
    "screen_risk",
    "clinician_risk",
    "author__full_name",
    "author__username",
)


def client_sessions(*, user: User, client: Client) -> QuerySet[CrisisSession]:
    """The client's timeline: every session, newest first, with its author (one query), the
    fields of TIMELINE_ROW_FIELDS only."""
    require_role(user, *READ_ROLES)
    return (
        CrisisSession.objects.filter(client=client, clinic=user.clinic)
        .select_related("author")
        .only(*TIMELINE_ROW_FIELDS)
        .order_by("-started_at", "-id")
    )


class TimelineRow(NamedTuple):
    """A row of the client's timeline, read as values: what the row shows and what decides
    whether it links (can_open_note reads clinic_id, status and author_id)."""

    pk: int
    clinic_id: int
    author_id: int
    started_at: datetime
    modality: str
    status: str
    late_entry: bool
    screen_risk: str
    clinician_risk: str
    author_name: str  # the author's display_name

    @property
    def risk_level(self) -> str:
        return governing_risk(clinician=self.clinician_risk, screen=self.screen_risk)

    def get_modality_display(self) -> Any:
        return choice_label(_MODALITY, self.modality)

    def get_status_display(self) -> Any:
        return choice_label(_STATUS, self.status)


_MODALITY = CrisisSession._meta.get_field("modality")
_STATUS = CrisisSession._meta.get_field("status")


class Timeline(NamedTuple):
    rows: list[TimelineRow]
    total: int  # how many sessions the client has
    # Whether the client has addenda and open follow-ups to list (True when not known).
    has_addenda: bool
    has_followups: bool


# A timeline row's columns, then the client's session count and the two probes.
TIMELINE_COLUMNS = ("pk", *TIMELINE_ROW_FIELDS, "timeline_total", "has_addenda", "has_followups")


def _timeline_queryset(user: User, client: Client) -> QuerySet[CrisisSession, tuple[Any, ...]]:
    """The timeline's rows as the ORM states them, the home of its rules: client_sessions'
    rows, newest first, with how many there are and whether the client has addenda and open
    follow-ups (client_addenda, client_open_followups). _TIMELINE_SQL is its twin on
    PostgreSQL. The count and the probes are uncorrelated subqueries PostgreSQL runs once."""
    rows = client_sessions(user=user, client=client)
    return rows.annotate(
        timeline_total=Subquery(
            rows.order_by().values("client").annotate(n=Count("pk")).values("n")
        ),
        has_addenda=Exists(client_addenda(user=user, client=client).order_by()),
        has_followups=Exists(client_open_followups(user=user, client=client).order_by()),
    ).values_list(*TIMELINE_COLUMNS)


# _timeline_queryset's statement, written once: building and compiling it through the ORM (the
# count's subquery and the two EXISTS made from the lists' querysets) cost the client page ~6 ms
# of CPU at every request, running it ~0.3 ms (bench/README.md, issue 15). The same columns and
# conditions; tests/sessions/test_clients.py compares the two.
_TIMELINE_SQL = f"""
SELECT s.id, s.clinic_id, s.author_id, s.started_at, s.modality, s.status, s.late_entry,
       s.screen_risk, s.clinician_risk, u.full_name, u.username,
       (SELECT count(*) FROM {CrisisSession._meta.db_table} c
         WHERE c.client_id = %(client)s AND c.clinic_id = %(clinic)s),
       EXISTS(SELECT 1 FROM {Addendum._meta.db_table} a
                JOIN {CrisisSession._meta.db_table} n ON n.id = a.session_id
               WHERE n.client_id = %(client)s AND n.clinic_id = %(clinic)s),
       EXISTS(SELECT 1 FROM {FollowUpTask._meta.db_table} f
               WHERE f.client_id = %(client)s AND f.clinic_id = %(clinic)s
                 AND f.closed_at IS NULL)
  FROM {CrisisSession._meta.db_table} s
  JOIN {User._meta.db_table} u ON u.id = s.author_id
 WHERE s.client_id = %(client)s AND s.clinic_id = %(clinic)s
 ORDER BY s.started_at DESC, s.id DESC
 LIMIT %(limit)s
"""  # noqa: S608 (table names; values are parameters)


def client_timeline(*, user: User, client: Client, limit: int, show_all: bool) -> Timeline:
    """The client page's timeline as crisisnotes.http.bounded_rows bounds a list: its first
    `limit` sessions (all with `show_all`) and how many there are, in one query, where
    bounded_rows asked for the count in a second statement whenever the client had more; and,
    in the same query, whether the page's addenda and open follow-ups have anything to read
    (most clients have neither: each read was a statement planned and sent for nothing)."""
    require_role(user, *READ_ROLES)
    if connection.vendor != "postgresql":
        rows = _timeline_queryset(user, client)
        found = list(rows if show_all else rows[:limit])
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                _TIMELINE_SQL,
                {
                    "client": client.pk,
                    "clinic": user.clinic_id,
                    "limit": None if show_all else limit,
                },
            )
            found = cursor.fetchall()
    if not found:  # nothing read the probes: let the lists read for themselves
        return Timeline(rows=[], total=0, has_addenda=True, has_followups=True)
    *_, total, has_addenda, has_followups = found[0]
    return Timeline(
        rows=[
            TimelineRow(
                pk,
                clinic_id,
                author_id,
                started_at,
                modality,
                status,
                late_entry,
                screen,
                clinician,
                author_name=full_name or username,  # as User.display_name
            )
            for (
                pk,
                clinic_id,
                author_id,
                started_at,
                modality,
                status,
                late_entry,
                screen,
                clinician,
                full_name,
                username,
                *_total_and_probes,
            ) in found
        ],
        total=total,
        has_addenda=has_addenda,
        has_followups=has_followups,
    )


def client_addenda(*, user: User, client: Client) -> QuerySet[Addendum]:
    require_role(user, *READ_ROLES)
    return (
        Addendum.objects.filter(session__client=client, session__clinic=user.clinic)
        .select_related("session")
        # What the client page's list shows: not every column of each addendum's note.
        .only("session__started_at", "kind", "text", "author_name", "created_at")
        .order_by("-created_at", "-id")
    )


def client_open_followups(*, user: User, client: Client) -> QuerySet[FollowUpTask]:
    require_role(user, *READ_ROLES)
    return (
        FollowUpTask.objects.filter(client=client, clinic=user.clinic, closed_at__isnull=True)
        .select_related("assigned_to")
        # What the client page's list shows (the assignee's display_name): not every column of
        # the task and its assignee.
        .only("method", "due_at", "assigned_to__full_name", "assigned_to__username")
        .order_by("due_at", "id")
    )


class FollowUpRow(NamedTuple):
    """An open follow-up as the client page lists it, read as values."""

    method: str
    due_at: datetime
    assignee_name: str  # the assignee's display_name

    def get_method_display(self) -> Any:
        return choice_label(_METHOD, self.method)


_METHOD = FollowUpTask._meta.get_field("method")

# client_open_followups' rows as the client page reads them, written once: the ORM's statement
# cost ~2.5 ms of CPU to build and compile at every request, running it ~0.3 ms (bench/README.md,
# issue 15). tests/sessions/test_clients.py compares the two.
_OPEN_FOLLOWUPS_SQL = f"""
SELECT f.method, f.due_at, u.full_name, u.username
  FROM {FollowUpTask._meta.db_table} f
  JOIN {User._meta.db_table} u ON u.id = f.assigned_to_id
 WHERE f.client_id = %(client)s AND f.clinic_id = %(clinic)s AND f.closed_at IS NULL
 ORDER BY f.due_at, f.id
"""  # noqa: S608 (table names; values are parameters)


def client_open_followup_rows(*, user: User, client: Client) -> list[FollowUpRow]:
    """client_open_followups (the home of its rules) as the client page lists them."""
    require_role(user, *READ_ROLES)
    if connection.vendor != "postgresql":
        found: list[tuple[Any, ...]] = list(
            client_open_followups(user=user, client=client).values_list(*_FOLLOWUP_COLUMNS)
        )
    else:
        with connection.cursor() as cursor:
            cursor.execute(_OPEN_FOLLOWUPS_SQL, {"client": client.pk, "clinic": user.clinic_id})
            found = cursor.fetchall()
    return [
        FollowUpRow(method, due_at, full_name or username)  # as User.display_name
        for method, due_at, full_name, username in found
    ]


_FOLLOWUP_COLUMNS = ("method", "due_at", "assigned_to__full_name", "assigned_to__username")
