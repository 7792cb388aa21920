"""Reads of case records, scoped to the reader's clinic (another clinic's client is a 404)."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from django.db.models import Count, Exists, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import User
from crisisnotes.accounts.permissions import require_role
from sessions.models import Addendum, Client, CrisisSession, FollowUpTask
from sessions.models.clients import phone_digits
from sessions.policies import READ_ROLES

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


class Timeline(NamedTuple):
    rows: list[CrisisSession]
    total: int  # how many sessions the client has
    # Whether the client has addenda and open follow-ups to list (True when not known).
    has_addenda: bool
    has_followups: bool


def client_timeline(*, user: User, client: Client, limit: int, show_all: bool) -> Timeline:
    """The client page's timeline as crisisnotes.http.bounded_rows bounds a list: its first
    `limit` sessions (all with `show_all`) and how many there are, in one query, where
    bounded_rows asked for the count in a second statement whenever the client had more; and,
    in the same query, whether the page's addenda and open follow-ups have anything to read
    (most clients have neither: each read was a statement planned and sent for nothing). The
    count and the two probes are subqueries PostgreSQL runs once, not per row."""
    rows = client_sessions(user=user, client=client)
    probes = {
        "has_addenda": Exists(client_addenda(user=user, client=client).order_by()),
        "has_followups": Exists(client_open_followups(user=user, client=client).order_by()),
    }
    if show_all:
        shown = list(rows.annotate(**probes))
        total = len(shown)
    else:
        count = Subquery(rows.order_by().values("client").annotate(n=Count("pk")).values("n"))
        shown = list(rows.annotate(timeline_total=count, **probes)[:limit])
        total = shown[0].timeline_total if shown else 0  # type: ignore[attr-defined]
    if not shown:  # nothing read the probes: let the lists read for themselves
        return Timeline(rows=shown, total=total, has_addenda=True, has_followups=True)
    first = cast(Any, shown[0])
    return Timeline(
        rows=shown,
        total=total,
        has_addenda=first.has_addenda,
        has_followups=first.has_followups,
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
