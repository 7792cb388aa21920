"""Reads of the audit log, for the clinic admin (who is the clinic's privacy officer here).

Every query is scoped to the admin's clinic and filtered through one of the composite indexes of
`AuditEvent.Meta.indexes`, and none of them runs per row: a page of the log, a client's access
report or a user's activity report costs the same few queries at 100 rows or at 1 million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Count, Max, Min, Model, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.audit.models import CLIENT_MODEL, AuditEvent

PAGE_SIZE = 100
# Past this many matching events the page says "more than COUNT_CAP" instead of counting them
# all: the exact count of a clinic's whole log (~900,000 rows) was most of the page's time
# (bench/README.md). Every page stays reachable ("Older" never runs out before the rows do),
# the date filter reaches old events directly, and the CSV and the access report's per-person
# summary stay exact.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class AuditFilters:
    """What the privacy officer narrows the log to. Dates are whole days in the clinic's time
    zone (the active one), both ends included."""

    client_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    actor_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def audit_event_list(
    *, user: User, action: str = "", actor_id: int | None = None
) -> QuerySet[AuditEvent]:
    """The audit log of the user's own clinic; only clinic admins read it."""
    return audit_event_search(user=user, filters=AuditFilters(action=action, actor_id=actor_id))


def audit_event_search(*, user: User, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The clinic's events matching every given filter, newest first, with their actor.

    The actors are fetched apart (prefetch_related: one query per CSV batch; the log page takes
    them from its staff list instead, see `log_page`), not joined: 100 rows name a handful of
    people, and a join carried every column of the user row into each row and built a user per
    row (2.7 ms of the page's 4.3 ms read, bench/README.md)."""
    require_role(user, Role.CLINIC_ADMIN)
    events = AuditEvent.objects.filter(clinic=user.clinic).prefetch_related("actor")
    if filters.client_id is not None:
        events = events.filter(client_id=filters.client_id)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.date_from is not None:
        events = events.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        events = events.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return events.order_by("-created_at", "-id")


@dataclass(frozen=True)
class LogPage:
    """One page of the log, newest first. `count` and `num_pages` are exact up to COUNT_CAP
    matching events and None beyond it."""

    number: int
    events: list[AuditEvent]
    count: int | None
    num_pages: int | None
    has_next: bool
    cap: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _page_number(text: str | None) -> int:
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def _capped_count(events: QuerySet[AuditEvent], filters: AuditFilters | None) -> int:
    """How many events match, counting no further than COUNT_CAP + 1.

    Which rows are counted does not change the answer, so they are taken oldest first when the
    filters are served by a composite index ending in created_at (all but the record filter):
    an index-only scan over the oldest entries, long marked all-visible by vacuum, instead of
    the sequential scan the planner picks for the unordered count, which reads ~180 heap pages
    through its small ring buffer on every page view (2.6 ms → 1.5 ms, bench/README.md). The
    record's index (object_type, object_id) has no created_at: ordered, a common record type
    was counted through the whole heap (0.3 s), so that filter keeps the unordered count."""
    if filters is None or filters.object_type or filters.object_id:
        return events.order_by().values("pk")[: COUNT_CAP + 1].count()
    return events.order_by("created_at").values("created_at")[: COUNT_CAP + 1].count()


def _attach_actors(events: list[AuditEvent], staff: QuerySet[User]) -> None:
    """Give each event its actor from `staff` (read here once and kept on that queryset for its
    next reader: the user filter's choice list lists the same people), and only an actor
    outside it (none, as long as events name people of their clinic) from one more query."""
    known: dict[int, User] = {user.pk: user for user in staff}
    missing = {event.actor_id for event in events if event.actor_id is not None} - known.keys()
    if missing:
        known.update(User.objects.in_bulk(missing))
    for event in events:
        if event.actor_id is not None and event.actor_id in known:
            event.actor = known[event.actor_id]


def log_page(
    *,
    events: QuerySet[AuditEvent],
    number_text: str | None,
    filters: AuditFilters | None = None,
    staff: QuerySet[User] | None = None,
) -> LogPage:
    """The asked page (a bad number gives the first, one past the end the last, as Django's
    Paginator.get_page does) in two queries: a count that stops at COUNT_CAP + 1 rows and the
    page's rows with one more to tell whether an older page exists. `filters`: those `events`
    were searched with (which index the count can read, see `_capped_count`). `staff`: the
    clinic's users the page reads anyway (its user filter), where the rows' actors are taken
    from instead of a query of their own (`_attach_actors`)."""
    if staff is not None:
        events = events.prefetch_related(None)
    number = _page_number(number_text)
    count: int | None = _capped_count(events, filters)
    if count is not None and count > COUNT_CAP:
        count = None
    if count is not None:
        number = min(number, max(1, -(-count // PAGE_SIZE)))
    offset = (number - 1) * PAGE_SIZE
    rows = list(events[offset : offset + PAGE_SIZE + 1])
    if not rows and number > 1:
        # Past the end of a log longer than the cap (a typed or stale URL): the last page, the
        # one place that counts every row.
        count = events.count()
        number = max(1, -(-count // PAGE_SIZE))
        offset = (number - 1) * PAGE_SIZE
        rows = list(events[offset : offset + PAGE_SIZE + 1])
        count = count if count <= COUNT_CAP else None
    if staff is not None:
        _attach_actors(rows, staff)
    return LogPage(
        number=number,
        events=rows[:PAGE_SIZE],
        count=count,
        num_pages=None if count is None else max(1, -(-count // PAGE_SIZE)),
        has_next=len(rows) > PAGE_SIZE,
        cap=COUNT_CAP,
    )


def audit_event_get(*, user: User, event_id: int) -> AuditEvent:
    return get_object_or_404(audit_event_list(user=user), pk=event_id)


def audit_people_summary(*, events: QuerySet[AuditEvent]) -> list[dict[str, object]]:
    """Who appears in these events: per actor, how many events, first and last time (one
    grouped query). The access report's answer to "who has seen this client"."""
    rows = (
        events.order_by()
        .values("actor_id", "actor_username", "actor__full_name")
        .annotate(events=Count("id"), first=Min("created_at"), last=Max("created_at"))
        .order_by("-last")
    )
    return [dict(row) for row in rows]


def audit_event_labelled(*, user: User, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """`events`, each with `client_label`: the alias of the client it names, from the user's
    clinic only (None for none or another clinic's) — read in
    the events' own query (a subquery per row, on the client's primary key) instead of a query
    of its own, whose planning alone cost the log page ~0.8 ms."""
    require_role(user, Role.CLINIC_ADMIN)
    clients = apps.get_model(CLIENT_MODEL)._default_manager
    alias = clients.filter(pk=OuterRef("client_id"), clinic_id=user.clinic_id).values("alias")
    return events.annotate(client_label=Subquery(alias))


def audit_client_find(*, user: User, text: str) -> list[tuple[int, str]]:
    """Clients of the admin's clinic named by `text`: a record number, an exact alias (any
    case), or else every alias containing it (at most 6, newest first). [(id, alias)]."""
    require_role(user, Role.CLINIC_ADMIN)
    clients = apps.get_model(CLIENT_MODEL)._default_manager.filter(clinic=user.clinic)
    text = text.strip().lstrip("#")
    if text.isdigit():
        return list(clients.filter(pk=int(text)).values_list("pk", "alias"))
    exact = list(clients.filter(alias__iexact=text).values_list("pk", "alias")[:6])
    if exact:
        return exact
    return list(
        clients.filter(alias__icontains=text).order_by("-pk").values_list("pk", "alias")[:6]
    )


def audit_client_get(*, user: User, client_id: int) -> Model:
    """The client an access report is about: 404 unless it is a client of the admin's clinic."""
    require_role(user, Role.CLINIC_ADMIN)
    client_model = apps.get_model(CLIENT_MODEL)
    return get_object_or_404(client_model._default_manager, pk=client_id, clinic=user.clinic)


def audit_actor_get(*, user: User, actor_id: int) -> User:
    """The user an activity report is about: 404 unless they belong to the admin's clinic."""
    require_role(user, Role.CLINIC_ADMIN)
    return get_object_or_404(User, pk=actor_id, clinic=user.clinic)


def audit_actor_choices(*, user: User) -> QuerySet[User]:
    """Everyone of the clinic, deactivated included: their past events stay in the log. Only
    what the filter's choice list shows (display name and username) is read: a whole user row
    each, password hash included, cost the log page ~0.4 ms for nothing."""
    require_role(user, Role.CLINIC_ADMIN)
    return (
        User.objects.filter(clinic=user.clinic)
        .only("id", "full_name", "username")
        .order_by("full_name", "username")
    )
