"""Reads of case records, scoped to the reader's clinic (another clinic's client is a 404)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
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
